-- Whether files can match a hash bank at all: positive hash banks with at least one enabled entry, and
-- their enabled entries (names and hashes are never returned).
-- Parameters: none.
WITH positive AS (
    SELECT b.bank_name, count(e.entry_id) FILTER (WHERE e.is_enabled) AS enabled_entries
    FROM hash_bank AS b
    LEFT JOIN hash_bank_entry AS e ON e.bank_name = b.bank_name
    WHERE NOT b.is_negative
    GROUP BY b.bank_name
),

final AS (
    SELECT
        CAST(count(*) FILTER (WHERE enabled_entries > 0) AS BIGINT) AS positive_banks,
        CAST(coalesce(sum(enabled_entries), 0) AS BIGINT) AS enabled_entries
    FROM positive
)

SELECT positive_banks, enabled_entries FROM final
