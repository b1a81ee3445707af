-- One user's reviews of the given referrals (:keys, a JSON list of keys).
SELECT referral_key, tier_before, tier_after, actionable, model_version, run_id, reviewed_at
FROM triage_review
WHERE user_name = :user_name
  AND referral_key IN (SELECT value FROM json_each(:keys))
