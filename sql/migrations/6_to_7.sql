-- Schema 6 -> 7: triage (classification/). The DDL, run before this file, creates the new tables
-- (triage_model, triage_rule_set, triage_run, triage_score, rollup_triage_daily). Referrals loaded before
-- have no score until a model is trained and promoted and `grace model score` runs.
SELECT 1;
