-- The enabled entries of every bank ($bank NULL) or of one, optionally one entry: what a BankMatcher indexes.
SELECT b.bank_name, b.is_negative, b.version, b.pdq_threshold, e.entry_id, e.md5, e.sha1, e.pdq, e.category
FROM hash_bank AS b JOIN hash_bank_entry AS e ON e.bank_name = b.bank_name
WHERE e.is_enabled AND ($bank IS NULL OR b.bank_name = $bank) AND ($entry_id IS NULL OR e.entry_id = $entry_id)
ORDER BY b.bank_name, e.entry_id
