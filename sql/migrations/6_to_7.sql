-- Schema 6 -> 7: content-classifier codes and scores (the case-export files' optional classifier_category,
-- classifier_confidence, classifier_model and classifier_version, from `grace hash --classifier`). Runs in the
-- upgrade's one transaction; every statement is idempotent. Files loaded before keep NULL there.
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_category VARCHAR;
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_confidence DOUBLE;
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_model VARCHAR;
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS classifier_version VARCHAR;
