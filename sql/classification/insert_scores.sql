-- A run's scores (`new_scores`, from classification/scoring.py), current until a later run scores them again.
INSERT INTO triage_score
SELECT CAST(referral_key AS UHUGEINT), $run_id, probability, priority_score, tier, rules_fired, contributions, true
FROM new_scores
