-- Decide what happens to each valid file row of the batch:
--   load               its referral is new in this batch and this is the first copy of the file row
--   duplicate          a repeated file row, or its referral is a duplicate
--   parent_quarantined its referral was quarantined in this batch
--   orphan_file        its referral is not in this delivery
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY referral_key, file_id ORDER BY _source_file, _row) AS copy_number
    FROM anon_files
),
parents AS (
    SELECT referral_key, bool_or(is_new) AS is_new
    FROM batch_referrals
    GROUP BY referral_key
),
quarantined_parents AS (
    SELECT DISTINCT trim(s.report_id) AS report_id
    FROM stg_referrals AS s
    SEMI JOIN problem_rows AS p
        ON p.dataset = 'referrals' AND p.source_file = s._source_file AND p.row_number = s._row
),
final AS (
    SELECT ranked.*,
           CASE
               WHEN parents.is_new AND copy_number = 1 THEN 'load'
               WHEN parents.referral_key IS NOT NULL THEN 'duplicate'
               WHEN quarantined_parents.report_id IS NOT NULL THEN 'parent_quarantined'
               ELSE 'orphan_file'
           END AS disposition
    FROM ranked
    LEFT JOIN parents USING (referral_key)
    LEFT JOIN quarantined_parents USING (report_id)
)
SELECT * FROM final
