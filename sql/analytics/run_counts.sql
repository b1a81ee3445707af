-- Store on a run's analytics_run row what it found: its findings, change points, anomalies and entities
-- emerging or vanishing (read by analytics_latest_run). Run by analytics/warehouse_run.py after the run's
-- result rows, in the same transaction, and by the upgrade from schema 11 for every run written before.
-- Parameters: $run_id VARCHAR (NULL = every run).
UPDATE analytics_run AS r
SET finding_count = (SELECT count(*) FROM analytics_finding AS f WHERE f.run_id = r.run_id),
    changepoint_count = (SELECT count(*) FROM analytics_changepoint AS x WHERE x.run_id = r.run_id),
    anomaly_count = (SELECT count(*) FROM analytics_anomaly AS x WHERE x.run_id = r.run_id),
    emerging_or_vanishing_count = (
        SELECT count(*) FROM analytics_entity_status AS x
        WHERE x.run_id = r.run_id AND x.status IN ('emerging', 'vanishing')
    )
WHERE CAST($run_id AS VARCHAR) IS NULL OR r.run_id = CAST($run_id AS VARCHAR)
