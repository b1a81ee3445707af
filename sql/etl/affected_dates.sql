-- Dates whose rollups this batch changes: its new referrals' dates, the dates of first
-- sightings it moved earlier, and the dates of accounts' first reports it moved earlier
-- (that referral became a repeat report).
WITH final AS (
    SELECT DISTINCT incident_date AS date_key FROM new_referrals
    UNION
    SELECT DISTINCT old_first_seen_date FROM moved_first
    UNION
    SELECT DISTINCT old_incident_date FROM account_moves
)
SELECT * FROM final
