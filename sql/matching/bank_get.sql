-- One bank's row by name.
SELECT bank_name, is_negative, scheme, version, source, pdq_threshold, created_at, updated_at
FROM hash_bank WHERE bank_name = $bank
