-- The latest `grace analyse` run (or the one named): when, which code, how much, how long.
-- Parameters: $run_id VARCHAR ('' = the latest run).
-- One row, or none when the warehouse has no run yet; `parameters` is the run's JSON text; the counts are those
-- stored on the run's row when it was written (sql/analytics/run_counts.sql).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id
),

-- @include chosen_run

final AS (
    SELECT c.run_id, c.created_at, c.code_version, c.series_count, c.skipped_count, c.seconds,
           c.finding_count AS findings, c.changepoint_count AS changepoints, c.anomaly_count AS anomalies,
           c.emerging_or_vanishing_count AS emerging_or_vanishing, c.parameters
    FROM chosen AS c
)

SELECT run_id, created_at, code_version, series_count, skipped_count, seconds, findings, changepoints,
       anomalies, emerging_or_vanishing, parameters
FROM final
