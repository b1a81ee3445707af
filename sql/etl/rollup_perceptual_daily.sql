-- Daily perceptual-matching rollup for the dates in `perceptual_dates` (day x country x platform x
-- category); the rows are defined in sql/fragments/perceptual_rollup_rows.sql.
WITH
-- @include active_bank_matches
dated_files AS (
    SELECT * FROM fact_file_occurrence WHERE incident_date IN (SELECT date_key FROM perceptual_dates)
),
-- @include perceptual_rollup_rows dated_files
final AS (
    SELECT * FROM perceptual_rows
)
SELECT * FROM final ORDER BY ALL
