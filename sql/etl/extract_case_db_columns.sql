-- Columns of the case system's `referrals` and `files` tables, in table order: checked against
-- the case-export contract before anything is extracted.
WITH final AS (
    SELECT CAST(table_name AS text) AS table_name, CAST(column_name AS text) AS column_name, ordinal_position
    FROM information_schema.columns
    WHERE table_schema = :schema
      AND table_name IN ('referrals', 'files')
)
SELECT table_name, column_name FROM final ORDER BY table_name, ordinal_position
