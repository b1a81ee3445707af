-- Per pseudonymous account in this batch, its earliest new referral (by date, then key).
WITH final AS (
    SELECT DISTINCT ON (account_pseudonym) account_pseudonym, referral_key, incident_date
    FROM new_referrals
    WHERE account_pseudonym IS NOT NULL
    ORDER BY account_pseudonym, incident_date, referral_key
)
SELECT * FROM final
