-- The earlier imports of version $version of bank $bank (their file checksums), newest first.
SELECT checksum, changed_at, entries
FROM hash_bank_change
WHERE bank_name = $bank AND version = $version AND action = 'import'
ORDER BY changed_at DESC
