-- One stored anomaly read again on its own (run, series, date): the check of the expected value a report
-- prints next to the observed one (the finding's own numbers are the other path).
-- Parameters: $run_id VARCHAR, $series_id VARCHAR (metric|grain|split_by|entity), $date DATE.
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($series_id AS VARCHAR) AS series_id, CAST($date AS DATE) AS day
),

final AS (
    SELECT a.value, a.expected, a.direction
    FROM analytics_anomaly AS a
    JOIN params AS p ON a.run_id = p.run_id AND a.series_id = p.series_id AND a.date = p.day
)

SELECT value, expected, direction
FROM final
