-- Dates whose referral flows (received, triaged) this batch changes.
WITH final AS (
    SELECT DISTINCT received_date AS date_key FROM new_referrals
    UNION
    SELECT DISTINCT triaged_date FROM new_referrals WHERE triaged_date IS NOT NULL
)
SELECT * FROM final
