-- A new version of a bank: its version, source and PDQ threshold become the new ones.
UPDATE hash_bank SET version = $version, source = $source, pdq_threshold = $threshold, updated_at = $now
WHERE bank_name = $bank
