-- Schema 4 -> 5: columns added to existing tables (the DDL, run before this file, creates only missing
-- tables). Runs in the upgrade's one transaction; every statement is idempotent.

-- PDQ quality scores (the case-export files' optional pdq_quality): files loaded before keep NULL.
ALTER TABLE fact_file_occurrence ADD COLUMN IF NOT EXISTS pdq_quality SMALLINT;

-- Calibrated prediction intervals (analytics/forecast.py): the forecast tables of an older warehouse
-- gain the calibrated coverage and the calibration factor; rows of earlier runs keep NULL there (their
-- intervals were the models' own).
ALTER TABLE analytics_forecast ADD COLUMN IF NOT EXISTS backtest_calibrated_coverage DOUBLE;
ALTER TABLE analytics_forecast ADD COLUMN IF NOT EXISTS calibration_factor DOUBLE;
ALTER TABLE analytics_forecast_candidate ADD COLUMN IF NOT EXISTS calibrated_coverage DOUBLE;
ALTER TABLE analytics_forecast_candidate ADD COLUMN IF NOT EXISTS calibration_factor DOUBLE;
