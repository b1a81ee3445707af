-- Entries new in this version, numbered after the bank's highest entry id in file order.
INSERT INTO hash_bank_entry
SELECT $bank, (SELECT coalesce(max(entry_id), 0) FROM hash_bank_entry WHERE bank_name = $bank)
              + row_number() OVER (ORDER BY _row),
       md5, sha1, pdq, category, $version, true
FROM bank_incoming WHERE entry_id IS NULL
ORDER BY _row
