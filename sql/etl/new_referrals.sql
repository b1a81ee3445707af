-- The referrals this batch adds: valid, first copy of their key, key not loaded before.
SELECT r.*
FROM checked_referrals AS r
ANTI JOIN referral_later_copies AS c USING (_file, _row)
ANTI JOIN keys_loaded_before AS b USING (referral_key)
WHERE r.problems IS NULL
