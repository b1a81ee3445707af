-- Reference imports (hash sets, published statistics) from import_log, newest first.
-- Parameters: $limit INTEGER (how many imports to list).
WITH final AS (
    SELECT import_id, dataset, parse_filename(source_path) AS source, rows_loaded, imported_at
    FROM import_log
)

SELECT import_id, dataset, source, rows_loaded, imported_at
FROM final
ORDER BY imported_at DESC, import_id
LIMIT $limit
