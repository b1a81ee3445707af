-- Dates whose rollups this batch changes: its new referrals' dates and the dates of first
-- sightings it moved earlier.
WITH final AS (
    SELECT DISTINCT incident_date AS date_key FROM new_referrals
    UNION
    SELECT DISTINCT old_first_seen_date FROM moved_first
)
SELECT * FROM final
