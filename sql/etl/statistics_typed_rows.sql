-- The rows of a validated published-statistics file, typed for `published_statistic`:
-- values trimmed, empty optional fields NULL, `value` as DOUBLE, tagged with $import_id.
WITH final AS (
    SELECT trim(period)                     AS period,
           trim(period_type)                AS period_type,
           NULLIF(trim(country_iso3), '')   AS country_iso3,
           NULLIF(trim(platform), '')       AS platform,
           trim(metric)                     AS metric,
           CAST(trim(value) AS DOUBLE)      AS value,
           trim(source)                     AS source,
           NULLIF(trim(note), '')           AS note,
           $import_id                       AS import_id,
           _row
    FROM stg_statistics
)
SELECT * EXCLUDE (_row) FROM final ORDER BY _row
