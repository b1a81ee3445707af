-- An earlier import of the same published-statistics content, if any.
WITH final AS (
    SELECT import_id, source_path, rows_loaded, imported_at
    FROM import_log
    WHERE import_id = $import_id
)
SELECT * FROM final
