-- The entries of bank $bank holding hash $hash as MD5, SHA1 or PDQ (lower-case hex).
SELECT entry_id, is_enabled FROM hash_bank_entry
WHERE bank_name = $bank AND (md5 = $hash OR sha1 = $hash OR pdq = $hash)
ORDER BY entry_id
