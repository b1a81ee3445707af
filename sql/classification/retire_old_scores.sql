-- Earlier scores of the referrals this run scored are no longer current.
UPDATE triage_score SET is_current = false
WHERE is_current AND run_id <> $run_id
  AND referral_key IN (SELECT referral_key FROM run_keys)
