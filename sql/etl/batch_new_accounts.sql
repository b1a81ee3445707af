-- Accounts reported for the first time in this batch (read before they are added to
-- account_first_report; mart_batch_items reads it too, to tell first-time accounts apart).
WITH final AS (
    SELECT b.account_pseudonym, b.referral_key, b.incident_date
    FROM batch_account_first AS b
    ANTI JOIN account_first_report AS a USING (account_pseudonym)
)
SELECT * FROM final ORDER BY incident_date, account_pseudonym
