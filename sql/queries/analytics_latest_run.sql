-- The latest `grace analyse` run (or the one named): when, which code, how much, how long.
-- Parameters: $run_id VARCHAR ('' = the latest run).
-- One row, or none when the warehouse has no run yet; `parameters` is the run's JSON text.
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id
),

-- @include chosen_run

counts AS (
    SELECT
        (SELECT count(*) FROM analytics_finding AS f WHERE f.run_id = c.run_id) AS findings,
        (SELECT count(*) FROM analytics_changepoint AS x WHERE x.run_id = c.run_id) AS changepoints,
        (SELECT count(*) FROM analytics_anomaly AS x WHERE x.run_id = c.run_id) AS anomalies,
        (SELECT count(*) FROM analytics_entity_status AS x
         WHERE x.run_id = c.run_id AND x.status IN ('emerging', 'vanishing')) AS emerging_or_vanishing
    FROM chosen AS c
),

final AS (
    SELECT c.run_id, c.created_at, c.code_version, c.series_count, c.skipped_count, c.seconds,
           n.findings, n.changepoints, n.anomalies, n.emerging_or_vanishing, c.parameters
    FROM chosen AS c
    CROSS JOIN counts AS n
)

SELECT run_id, created_at, code_version, series_count, skipped_count, seconds, findings, changepoints,
       anomalies, emerging_or_vanishing, parameters
FROM final
