-- Schema 4 -> 5: columns added to existing tables (the DDL, run before this file, creates only missing
-- tables). Runs in the upgrade's one transaction; every statement is idempotent.

-- PDQ quality scores (the case-export files' optional pdq_quality): files loaded before keep NULL.
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS pdq_quality SMALLINT;
