-- Plan an incremental extraction: the referrals above the watermark (:after), in id order,
-- split into chunks of at most :chunk_size rows; one row per chunk with its id range and size.
WITH pending AS (
    SELECT id, (row_number() OVER (ORDER BY id) - 1) / :chunk_size AS chunk_no
    FROM referrals
    WHERE id > :after
),
final AS (
    SELECT chunk_no, min(id) AS first_id, max(id) AS last_id, count(*) AS row_count
    FROM pending
    GROUP BY chunk_no
)
SELECT first_id, last_id, row_count FROM final ORDER BY first_id
