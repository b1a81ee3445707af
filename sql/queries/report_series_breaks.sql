-- The break dates one analysis run found in one series, in order: the windows a report cites around a
-- break end at the neighbouring breaks.
-- Parameters: $run_id VARCHAR, $series_id VARCHAR (metric|grain|split_by|entity).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($series_id AS VARCHAR) AS series_id
),

final AS (
    SELECT c.date
    FROM analytics_changepoint AS c
    JOIN params AS p ON c.run_id = p.run_id AND c.series_id = p.series_id
)

SELECT date
FROM final
ORDER BY date
