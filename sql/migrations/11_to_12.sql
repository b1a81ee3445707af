-- Schema 11 -> 12: what each analysis run found (findings, change points, anomalies, entities emerging or
-- vanishing) stored on its analytics_run row. The columns are added here; warehouse/schema.py then counts them
-- for the runs already written with sql/analytics/run_counts.sql, which `grace analyse` runs for each new run.
-- Runs in the upgrade's one transaction, after the DDL.
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS finding_count BIGINT;
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS changepoint_count BIGINT;
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS anomaly_count BIGINT;
ALTER TABLE analytics_run ADD COLUMN IF NOT EXISTS emerging_or_vanishing_count BIGINT;
