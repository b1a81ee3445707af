-- Valid referral rows that repeat a referral key seen earlier in this batch (re-delivered, or
-- delivered through a second channel): the first copy (in file order) represents the referral.
-- Repeats are rare, so only the repeated keys are ranked.
WITH valid AS (
    SELECT referral_key, _file, _row FROM checked_referrals WHERE problems IS NULL
),
repeated AS (
    SELECT referral_key FROM valid GROUP BY referral_key HAVING count(*) > 1
),
ranked AS (
    SELECT _file, _row, row_number() OVER (PARTITION BY referral_key ORDER BY _file, _row) AS copy_number
    FROM valid SEMI JOIN repeated USING (referral_key)
)
SELECT _file, _row FROM ranked WHERE copy_number > 1
