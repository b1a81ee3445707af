-- The file rows of the referrals in one extraction chunk (ids :first_id..:last_id not extracted
-- yet: the filter of extract_case_db_chunks.sql), in id order.
-- A semi-join, not a join: a report_id held by two referral rows must not repeat its files.
WITH horizon AS (
    SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) - :since AS max_age,
           CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) AS next_xid
),
chunk_reports AS (
    SELECT DISTINCT trim(r.report_id) AS report_id
    FROM referrals AS r
    CROSS JOIN horizon AS h
    WHERE r.id BETWEEN :first_id AND :last_id
      AND (r.id > :after
           OR (h.next_xid - CAST(CAST(r.xmin AS text) AS bigint) + 4294967296) % 4294967296 <= h.max_age)
),
final AS (
    SELECT f.*
    FROM files AS f
    WHERE trim(f.report_id) IN (SELECT report_id FROM chunk_reports)
)
SELECT * FROM final ORDER BY id
