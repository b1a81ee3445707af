-- Point the current transaction at the case system's schema (bound as a value, never spliced
-- into SQL text), so the extraction queries can name `referrals` and `files` unqualified.
WITH final AS (
    SELECT set_config('search_path', :schema, true) AS search_path
)
SELECT search_path FROM final
