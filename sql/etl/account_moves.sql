-- Accounts already reported whose first report this batch moves earlier (late records): the
-- old first report becomes a repeat report, so its date's rollup is recomputed.
WITH final AS (
    SELECT b.account_pseudonym, b.referral_key, b.incident_date, a.incident_date AS old_incident_date
    FROM batch_account_first AS b
    JOIN account_first_report AS a USING (account_pseudonym)
    WHERE b.incident_date < a.incident_date
       OR (b.incident_date = a.incident_date AND b.referral_key < a.referral_key)
)
SELECT * FROM final
