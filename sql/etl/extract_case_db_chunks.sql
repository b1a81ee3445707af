-- Plan an incremental extraction: the referrals not extracted yet, in id order, split into chunks
-- of at most :chunk_size rows; one row per chunk with its id range, size and fingerprint.
--
-- Not extracted yet: written by a transaction not older than :since (the snapshot xmin of the last
-- complete extraction; 0 reads everything), or above the highest id loaded (:after). A row's
-- `xmin` (the transaction that wrote it) is a 32-bit id that wraps around: its age is taken modulo
-- 2^32 from the snapshot's next id, and compared with the age of :since (`max_age`). The same
-- filter is in extract_case_db_referrals.sql and extract_case_db_files.sql.
--
-- The fingerprint (md5 of every id/xmin pair) identifies the exact row versions of the chunk, so a
-- chunk planned again with the same rows gets the same checksum and is recognised as loaded.
WITH horizon AS (
    SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) - :since AS max_age,
           CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint) AS next_xid
),
pending AS (
    SELECT r.id, CAST(r.xmin AS text) AS row_xid
    FROM referrals AS r
    CROSS JOIN horizon AS h
    WHERE r.id > :after
       OR (h.next_xid - CAST(CAST(r.xmin AS text) AS bigint) + 4294967296) % 4294967296 <= h.max_age
),
numbered AS (
    SELECT id, row_xid, (row_number() OVER (ORDER BY id) - 1) / :chunk_size AS chunk_no
    FROM pending
),
final AS (
    SELECT chunk_no, min(id) AS first_id, max(id) AS last_id, count(*) AS row_count,
           md5(string_agg(id || '/' || row_xid, ',' ORDER BY id)) AS fingerprint
    FROM numbered
    GROUP BY chunk_no
)
SELECT first_id, last_id, row_count, fingerprint FROM final ORDER BY first_id
