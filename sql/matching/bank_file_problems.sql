-- The first problem of a staged bank file (`stg_bank`: md5, sha1, pdq, category, _row; text, trimmed,
-- lower-cased, empty as NULL), or no row: a hash of the wrong length or with a non-hex character, a
-- row without any hash, a category outside the bank's scheme ($categories; $category_required for
-- positive banks), or the same hashes listed twice with different categories. Values are never echoed: a bank file may hold anything.
WITH problems AS (
    SELECT _row, 'md5' AS field, 1 AS k,
           CASE WHEN length(md5) <> 32 THEN 'expected 32 hex characters, got ' || length(md5)
                ELSE 'not hexadecimal (0-9, a-f)' END AS reason
    FROM stg_bank WHERE md5 IS NOT NULL AND NOT regexp_full_match(md5, '[0-9a-f]{32}')
    UNION ALL
    SELECT _row, 'sha1', 2,
           CASE WHEN length(sha1) <> 40 THEN 'expected 40 hex characters, got ' || length(sha1)
                ELSE 'not hexadecimal (0-9, a-f)' END
    FROM stg_bank WHERE sha1 IS NOT NULL AND NOT regexp_full_match(sha1, '[0-9a-f]{40}')
    UNION ALL
    SELECT _row, 'pdq', 3,
           CASE WHEN length(pdq) <> 64 THEN 'expected 64 hex characters, got ' || length(pdq)
                ELSE 'not hexadecimal (0-9, a-f)' END
    FROM stg_bank WHERE pdq IS NOT NULL AND NOT regexp_full_match(pdq, '[0-9a-f]{64}')
    UNION ALL
    SELECT _row, $first_hash_column, 0, 'no hash: a row needs at least one of md5, sha1, pdq'
    FROM stg_bank WHERE md5 IS NULL AND sha1 IS NULL AND pdq IS NULL
    UNION ALL
    SELECT _row, 'category', 4,
           CASE WHEN category IS NULL THEN 'missing: a positive bank needs a category code'
                ELSE 'not a code of the bank''s scheme (' || array_to_string($categories, ', ') || ')' END
    FROM stg_bank
    WHERE (category IS NULL AND $category_required)
       OR (category IS NOT NULL AND NOT list_contains($categories, category))
    UNION ALL
    SELECT _row, 'category', 5, 'the same hashes as row ' || first_row || ' with another category'
    FROM (
        SELECT _row, category, first_value(_row) OVER same AS first_row, first_value(category) OVER same AS first_category
        FROM stg_bank
        WINDOW same AS (PARTITION BY md5, sha1, pdq ORDER BY _row)
    )
    WHERE category IS DISTINCT FROM first_category
),
final AS (
    SELECT _row, field, reason FROM problems ORDER BY _row, k LIMIT 1
)
SELECT * FROM final
