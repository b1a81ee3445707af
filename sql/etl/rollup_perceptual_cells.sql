-- Perceptual-matching rollup rows of the cells (day, country, platform, category) in `perceptual_cells`,
-- recomputed alone: the same rows as etl/rollup_perceptual_daily.sql gives for those cells, as a cell's
-- row reads only its own files (sql/fragments/perceptual_rollup_rows.sql).
WITH
-- @include active_bank_matches
cell_files AS (
    SELECT o.*
    FROM fact_file_occurrence AS o
    SEMI JOIN perceptual_cells AS c
           ON c.date_key = o.incident_date AND c.country_iso3 = o.country_iso3
          AND c.platform_name = o.platform_name AND c.category_code = o.category_code
),
-- @include perceptual_rollup_rows cell_files
final AS (
    SELECT * FROM perceptual_rows
)
SELECT * FROM final ORDER BY ALL
