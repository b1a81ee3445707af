-- The analysis run a query shows: `params.run_id` when given, else the latest run (newest created_at, then
-- run_id). A CTE named `chosen` (every column of analytics_run) followed by a comma; a named query includes it
-- with the line `-- @include chosen_run` between its `params` CTE (which must have run_id) and the next CTE.
chosen AS (
    SELECT r.*
    FROM analytics_run AS r
    CROSS JOIN params AS p
    WHERE coalesce(p.run_id, '') IN ('', r.run_id)
    ORDER BY r.created_at DESC, r.run_id DESC
    LIMIT 1
),
