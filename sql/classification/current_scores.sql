-- Each scored referral's current score (its latest run), keys as decimal text.
SELECT CAST(referral_key AS VARCHAR) AS referral_key, probability, priority_score, tier
FROM triage_score
WHERE is_current
ORDER BY referral_key
