-- Referral keys of this batch already in the warehouse (loaded by an earlier batch).
SELECT DISTINCT referral_key
FROM fact_referral
WHERE referral_key IN (SELECT referral_key FROM checked_referrals WHERE problems IS NULL)
