-- Schema 6 -> 7: triage (classification/) and content-classifier codes and scores. The DDL, run before this
-- file, creates the new triage tables (triage_model, triage_rule_set, triage_run, triage_score,
-- rollup_triage_daily); referrals loaded before have no score until a model is trained and promoted and
-- `grace model score` runs. The case-export files' optional classifier_category, classifier_confidence,
-- classifier_model and classifier_version (from `grace hash --classifier`) become columns of
-- fact_file_occurrence; files loaded before keep NULL there. Runs in the upgrade's one transaction; every
-- statement is idempotent.
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_category VARCHAR;
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_confidence DOUBLE;
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_model VARCHAR;
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_version VARCHAR;
