-- One staged row of a published-statistics file, as text (to quote it in an error message).
WITH final AS (
    SELECT * EXCLUDE (_source_file, _row)
    FROM stg_statistics
    WHERE _row = $row
)
SELECT * FROM final
