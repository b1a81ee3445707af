-- One hash_bank_change row: an import (entry NULL, entries = the file's distinct entries, checksum,
-- path) or a single entry disabled or enabled by hand.
INSERT INTO hash_bank_change VALUES ($bank, $version, $action, $entry_id, $entries, $checksum, $source_path, $now)
