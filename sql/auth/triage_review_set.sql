-- Record (or replace) one user's review of one referral.
INSERT INTO triage_review (user_name, referral_key, tier_before, tier_after, actionable, model_version, run_id, reviewed_at)
VALUES (:user_name, :referral_key, :tier_before, :tier_after, :actionable, :model_version, :run_id, :at)
ON CONFLICT (user_name, referral_key) DO UPDATE SET
    tier_before = excluded.tier_before,
    tier_after = excluded.tier_after,
    actionable = excluded.actionable,
    model_version = excluded.model_version,
    run_id = excluded.run_id,
    reviewed_at = excluded.reviewed_at
