-- The referral rows of one extraction chunk: ids :first_id..:last_id not extracted yet (the filter
-- of extract_case_db_chunks.sql: written since :since, or above id :after), in id order.
WITH horizon AS (
    SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) - :since AS max_age,
           CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) AS next_xid
),
final AS (
    SELECT r.*
    FROM referrals AS r
    CROSS JOIN horizon AS h
    WHERE r.id BETWEEN :first_id AND :last_id
      AND (r.id > :after
           OR (h.next_xid - CAST(CAST(r.xmin AS text) AS bigint) + 4294967296) % 4294967296 <= h.max_age)
)
SELECT * FROM final ORDER BY id
