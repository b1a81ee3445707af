-- A new bank.
INSERT INTO hash_bank VALUES ($bank, $negative, $scheme, $version, $source, $threshold, $now, $now)
