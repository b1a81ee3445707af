-- One entry of a bank.
SELECT entry_id, is_enabled FROM hash_bank_entry WHERE bank_name = $bank AND entry_id = $entry_id
