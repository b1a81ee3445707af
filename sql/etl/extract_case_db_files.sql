-- The file rows of the referrals in one extraction chunk (ids :first_id..:last_id), in id order.
-- A semi-join, not a join: a report_id held by two referral rows must not repeat its files.
WITH chunk_reports AS (
    SELECT DISTINCT trim(r.report_id) AS report_id
    FROM referrals AS r
    WHERE r.id BETWEEN :first_id AND :last_id
),
final AS (
    SELECT f.*
    FROM files AS f
    WHERE trim(f.report_id) IN (SELECT report_id FROM chunk_reports)
)
SELECT * FROM final ORDER BY id
