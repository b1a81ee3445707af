-- One hash_bank_change row per entry changed by an import (entries = 1).
INSERT INTO hash_bank_change
SELECT $bank, $version, action, entry_id, 1, NULL, NULL, $now
FROM bank_entry_changes ORDER BY entry_id, action
