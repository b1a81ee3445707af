-- The latest stored `grace analyse` runs (analytics_run), newest first.
-- Parameters: $limit INTEGER (how many runs to list).
WITH final AS (
    SELECT run_id, created_at, code_version, parameters, series_count, skipped_count, seconds
    FROM analytics_run
)

SELECT run_id, created_at, code_version, parameters, series_count, skipped_count, seconds
FROM final
ORDER BY created_at DESC, run_id
LIMIT $limit
