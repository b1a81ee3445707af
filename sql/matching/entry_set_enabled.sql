-- Disable or enable one entry.
UPDATE hash_bank_entry SET is_enabled = $enabled WHERE bank_name = $bank AND entry_id = $entry_id
