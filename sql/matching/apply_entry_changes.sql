-- Apply `bank_entry_changes` (entry_changes_of_import.sql) to the bank's entries; an entry may be
-- both restored and recategorised, so the changes are folded into one row per entry first.
UPDATE hash_bank_entry SET
    is_enabled = CASE WHEN c.removed THEN false WHEN c.restored THEN true ELSE hash_bank_entry.is_enabled END,
    category = CASE WHEN c.recategorised THEN c.category ELSE hash_bank_entry.category END
FROM (
    SELECT entry_id,
           bool_or(action = 'removed_in_version') AS removed,
           bool_or(action = 'restored_in_version') AS restored,
           bool_or(action = 'recategorised') AS recategorised,
           any_value(category) FILTER (WHERE action = 'recategorised') AS category
    FROM bank_entry_changes GROUP BY entry_id
) AS c
WHERE hash_bank_entry.bank_name = $bank AND hash_bank_entry.entry_id = c.entry_id
