-- Move the first report of accounts that this batch saw earlier.
UPDATE account_first_report SET referral_key = m.referral_key, incident_date = m.incident_date
FROM account_moves AS m
WHERE account_first_report.account_pseudonym = m.account_pseudonym
