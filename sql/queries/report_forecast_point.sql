-- One stored forecast point read again on its own (run, series, date): the check of a forecast a report
-- prints (written from the `analytics_forecast` query). The model's own point and interval, as stored.
-- Parameters: $run_id VARCHAR, $series_id VARCHAR (metric|grain|split_by|entity), $date DATE.
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($series_id AS VARCHAR) AS series_id, CAST($date AS DATE) AS day
),

final AS (
    SELECT f.yhat, f.yhat_lower, f.yhat_upper, f.level
    FROM analytics_forecast AS f
    JOIN params AS p ON f.run_id = p.run_id AND f.series_id = p.series_id AND f.date = p.day
)

SELECT yhat, yhat_lower, yhat_upper, level
FROM final
