-- Each scored referral's current score (its latest run), keys as fixed-width hex text ('0x' + 32 digits).
SELECT '0x' || lpad(hex(referral_key), 32, '0') AS referral_key, probability, priority_score, tier
FROM triage_score
WHERE is_current
ORDER BY referral_key
