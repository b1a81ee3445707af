-- What a new version does to the bank's existing entries, one row per entry that changes:
-- 'removed_in_version' (enabled, absent from the file: disabled), 'restored_in_version' (listed again
-- after a version had removed it: enabled; a hash disabled by hand stays disabled), 'recategorised'
-- (listed with another category code: the entry takes the new code).
WITH latest AS (
    SELECT entry_id, arg_max(action, changed_at) AS action
    FROM hash_bank_change
    WHERE bank_name = $bank AND entry_id IS NOT NULL AND action IN ('removed_in_version', 'restored_in_version', 'disable', 'enable')
    GROUP BY entry_id
),
final AS (
    SELECT e.entry_id, 'removed_in_version' AS action, CAST(NULL AS VARCHAR) AS category
    FROM hash_bank_entry AS e
    WHERE e.bank_name = $bank AND e.is_enabled
      AND e.entry_id NOT IN (SELECT entry_id FROM bank_incoming WHERE entry_id IS NOT NULL)
    UNION ALL
    SELECT i.entry_id, 'restored_in_version', NULL
    FROM bank_incoming AS i JOIN latest AS l USING (entry_id)
    WHERE NOT i.is_enabled AND l.action = 'removed_in_version'
    UNION ALL
    SELECT entry_id, 'recategorised', category
    FROM bank_incoming
    WHERE entry_id IS NOT NULL AND category IS DISTINCT FROM old_category
)
SELECT * FROM final ORDER BY entry_id, action
