-- Schema 11 -> 12: what each analysis run found (findings, change points, anomalies, entities emerging or
-- vanishing) stored on its analytics_run row, counted here for the runs already written (the same counts as
-- sql/analytics/run_counts.sql, which `grace analyse` runs for each new run). Runs in the upgrade's one
-- transaction, after the DDL.
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS finding_count BIGINT;
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS changepoint_count BIGINT;
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS anomaly_count BIGINT;
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS emerging_or_vanishing_count BIGINT;
UPDATE analytics_run AS r
SET finding_count = (SELECT count(*) FROM analytics_finding AS f WHERE f.run_id = r.run_id),
    changepoint_count = (SELECT count(*) FROM analytics_changepoint AS x WHERE x.run_id = r.run_id),
    anomaly_count = (SELECT count(*) FROM analytics_anomaly AS x WHERE x.run_id = r.run_id),
    emerging_or_vanishing_count = (
        SELECT count(*) FROM analytics_entity_status AS x
        WHERE x.run_id = r.run_id AND x.status IN ('emerging', 'vanishing')
    );
