-- Which metrics and grains have stored forecasts in the latest `grace analyse` run (or the one named),
-- and for how many series each: the Forecasts page offers only these.
-- Parameters: $run_id VARCHAR ('' = latest).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id
),

-- @include chosen_run

final AS (
    SELECT f.metric, f.grain, count(DISTINCT f.series_id) AS series
    FROM analytics_forecast AS f
    JOIN chosen AS c ON c.run_id = f.run_id
    GROUP BY f.metric, f.grain
)

SELECT metric, grain, series
FROM final
ORDER BY metric, grain
