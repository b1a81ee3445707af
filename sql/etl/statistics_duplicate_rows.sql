-- Rows of a published-statistics file that repeat an earlier row's figure (same period, period
-- type, country, platform, metric and source): a file must state each figure once.
-- Same columns as a contract violation: (_source_file, _row, field, reason, detail).
WITH keyed AS (
    SELECT _source_file, _row,
           row_number() OVER key_window AS copy_number,
           first_value(_row) OVER key_window AS first_row
    FROM stg_statistics
    WINDOW key_window AS (
        PARTITION BY trim(period), trim(period_type), NULLIF(trim(country_iso3), ''),
                     NULLIF(trim(platform), ''), trim(metric), trim(source)
        ORDER BY _row
    )
),
final AS (
    SELECT _source_file, _row, 'metric' AS field, 'duplicate' AS reason,
           'row ' || first_row AS detail
    FROM keyed
    WHERE copy_number > 1
)
SELECT * FROM final
