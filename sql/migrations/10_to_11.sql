-- Schema 10 -> 11: weekly and monthly copies of rollup_perceptual_daily. The DDL, run before this file,
-- creates the two tables; warehouse/schema.py then fills them from the daily rollup
-- (warehouse/period_rollups.py, the code that keeps them afterwards). Runs in the upgrade's one transaction.
SELECT 1;
