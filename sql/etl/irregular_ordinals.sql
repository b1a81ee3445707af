-- Ordinals of the files of referrals whose files are not consecutive rows (rare): rank in file order.
SELECT _pos, _item, row_number() OVER (PARTITION BY referral_key ORDER BY _pos, _item) AS file_ordinal
FROM loadable_files
WHERE referral_key IN (SELECT referral_key FROM loading_referrals WHERE NOT consecutive)
