-- One label per reviewed referral: the latest review of any user (ties: the later user name), as
-- (referral_key, actionable, reviewed_at).
SELECT referral_key, actionable, reviewed_at
FROM (
    SELECT referral_key, actionable, reviewed_at,
           row_number() OVER (PARTITION BY referral_key ORDER BY reviewed_at DESC, user_name DESC) AS latest
    FROM triage_review
)
WHERE latest = 1
ORDER BY referral_key
