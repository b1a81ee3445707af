-- Valid file rows of valid referrals that repeat an earlier row (same referral, same file id;
-- first in file order wins). Repeats are rare, so only the repeated pairs are ranked.
WITH valid AS (
    SELECT referral_key, file_id, _file, _row FROM checked_files WHERE problems IS NULL AND referral_key IS NOT NULL
),
repeated AS (
    SELECT referral_key, file_id FROM valid GROUP BY referral_key, file_id HAVING count(*) > 1
),
ranked AS (
    SELECT _file, _row, row_number() OVER (PARTITION BY referral_key, file_id ORDER BY _file, _row) AS copy_number
    FROM valid SEMI JOIN repeated USING (referral_key, file_id)
)
SELECT _file, _row FROM ranked WHERE copy_number > 1
