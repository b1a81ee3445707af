-- Schema 7 -> 8: monitoring of the active triage model in `grace analyse`. The DDL, run before this file,
-- creates analytics_model_monitor; alerts gain a subject (the feature of a 'drift' alert), NULL for the
-- alerts stored before. Runs in the upgrade's one transaction.
ALTER TABLE analytics_alert ADD COLUMN IF NOT EXISTS subject VARCHAR;
