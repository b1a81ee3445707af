-- A bank's changes, oldest first.
SELECT changed_at, version, action, entry_id, entries, checksum, source_path
FROM hash_bank_change WHERE bank_name = $bank
ORDER BY changed_at, action, entry_id
