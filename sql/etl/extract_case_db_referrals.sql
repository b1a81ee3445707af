-- The referral rows of one extraction chunk (ids :first_id..:last_id), in id order.
WITH final AS (
    SELECT r.*
    FROM referrals AS r
    WHERE r.id BETWEEN :first_id AND :last_id
)
SELECT * FROM final ORDER BY id
