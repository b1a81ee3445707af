-- Schema 9 -> 10: weekly and monthly copies of rollup_referral_daily and rollup_file_daily. The DDL, run
-- before this file, creates the four tables; warehouse/schema.py then fills them from the daily rollups
-- (warehouse/period_rollups.py, the code that keeps them afterwards). Runs in the upgrade's one transaction.
SELECT 1;
