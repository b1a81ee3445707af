-- The referral backlog projection of the latest run (or the one named) at one grain: forecast
-- arrivals, capacity (recent mean triage rate x days), backlog median and interval, and the chance
-- it grows, per future period; `parameters` (JSON text) says how capacity and the start were chosen.
-- Parameters: $run_id VARCHAR ('' = latest); $grain VARCHAR ('month', 'week' ...).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($grain AS VARCHAR) AS grain
),

-- @include chosen_run

final AS (
    SELECT b.series_id, b.grain, b.date, b.arrivals, b.capacity, b.backlog, b.backlog_lower, b.backlog_upper,
           b.p_growing, b.level, b.capacity_per_day, b.initial_backlog, b.arrivals_source, b.parameters
    FROM analytics_backlog AS b
    JOIN chosen AS c ON c.run_id = b.run_id
    CROSS JOIN params AS p
    WHERE b.grain = p.grain
)

SELECT series_id, grain, date, arrivals, capacity, backlog, backlog_lower, backlog_upper, p_growing, level,
       capacity_per_day, initial_backlog, arrivals_source, parameters
FROM final
ORDER BY date
