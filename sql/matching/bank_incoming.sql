-- The staged file's distinct entries (first row of each md5/sha1/pdq combination), each with the
-- bank's existing entry holding the same hashes, if any (entry_id NULL: new).
WITH distinct_rows AS (
    SELECT md5, sha1, pdq, arg_min(category, _row) AS category, min(_row) AS _row
    FROM stg_bank GROUP BY md5, sha1, pdq
),
final AS (
    SELECT s.md5, s.sha1, s.pdq, s.category, s._row,
           e.entry_id, e.category AS old_category, e.is_enabled
    FROM distinct_rows AS s
    LEFT JOIN hash_bank_entry AS e
      ON e.bank_name = $bank
     AND e.md5 IS NOT DISTINCT FROM s.md5 AND e.sha1 IS NOT DISTINCT FROM s.sha1 AND e.pdq IS NOT DISTINCT FROM s.pdq
)
SELECT * FROM final
