-- Valid file rows of valid referrals that repeat an earlier row (same referral, same file id;
-- first in file order wins). Repeats are rare, so only the repeated pairs are ranked. A row is
-- (_file, _row, _item): a package's files share their line's _row.
WITH valid AS (
    SELECT referral_key, file_id, _file, _row, _item
    FROM checked_files
    WHERE problems IS NULL AND referral_key IS NOT NULL
),
repeated AS (
    SELECT referral_key, file_id FROM valid GROUP BY referral_key, file_id HAVING count(*) > 1
),
ranked AS (
    SELECT _file, _row, _item,
           row_number() OVER (PARTITION BY referral_key, file_id ORDER BY _file, _row, _item) AS copy_number
    FROM valid SEMI JOIN repeated USING (referral_key, file_id)
)
SELECT _file, _row, _item FROM ranked WHERE copy_number > 1
