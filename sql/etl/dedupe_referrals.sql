-- Mark each anonymised referral of the batch: the first copy of a referral key in the batch
-- is its representative; later copies are in-batch duplicates (re-delivered, or delivered
-- through a second channel); a key already in the warehouse is a duplicate of an earlier batch.
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY referral_key ORDER BY _source_file, _row) AS copy_number
    FROM anon_referrals
),
loaded_before AS (
    SELECT DISTINCT referral_key
    FROM fact_referral
    WHERE referral_key IN (SELECT referral_key FROM anon_referrals)
),
final AS (
    SELECT ranked.*,
           copy_number > 1 AS is_batch_duplicate,
           loaded_before.referral_key IS NOT NULL AS is_loaded_before,
           copy_number = 1 AND loaded_before.referral_key IS NULL AS is_new
    FROM ranked
    LEFT JOIN loaded_before USING (referral_key)
)
SELECT * FROM final
