-- Ranked narrative findings of the latest run (or the one named), most important first.
-- Parameters: $run_id VARCHAR ('' = the latest run); $metrics, $kinds VARCHAR[] (empty = all);
--             $countries, $platforms VARCHAR[]: empty both = every finding; otherwise only findings
--             about those countries or platforms (the totals are left out); $limit BIGINT;
--             $scope_countries VARCHAR[]: NULL = the reader may see everything; otherwise only findings
--             about those countries (never the EU total or a platform, which mix every country);
--             $start, $end VARCHAR ISO dates or NULL (inclusive): only findings dated (their date, else
--             their end date) in that period; an undated finding only when both are NULL.
-- `numbers` and `parameters` are JSON text; (source_table, series_id, date) names the result row.
WITH params AS (
    SELECT
        CAST($run_id AS VARCHAR) AS run_id,
        CAST($metrics AS VARCHAR[]) AS metrics,
        CAST($kinds AS VARCHAR[]) AS kinds,
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($scope_countries AS VARCHAR[]) AS scope_countries,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date
),

-- @include chosen_run

selected AS (
    SELECT f.*
    FROM analytics_finding AS f
    JOIN chosen AS c ON c.run_id = f.run_id
    CROSS JOIN params AS p
    WHERE (len(p.metrics) = 0 OR list_contains(p.metrics, f.metric))
      AND (len(p.kinds) = 0 OR list_contains(p.kinds, f.kind))
      AND ((len(p.countries) = 0 AND len(p.platforms) = 0)
           OR (f.split_by = 'country' AND list_contains(p.countries, f.entity))
           OR (f.split_by = 'platform' AND list_contains(p.platforms, f.entity)))
      AND (p.scope_countries IS NULL
           OR (f.split_by = 'country' AND list_contains(p.scope_countries, f.entity)))
      AND (p.start_date IS NULL OR coalesce(f.date, f.end_date) >= p.start_date)
      AND (p.end_date IS NULL OR coalesce(f.date, f.end_date) <= p.end_date)
),

final AS (
    SELECT s.run_id, s.rank, s.score, s.kind, s.headline, s.series_id, s.metric, s.grain, s.split_by, s.entity,
           s.date, s.end_date, s.detector, s.source_table, s.numbers, s.parameters
    FROM selected AS s
)

SELECT run_id, rank, score, kind, headline, series_id, metric, grain, split_by, entity, date, end_date,
       detector, source_table, numbers, parameters
FROM final
ORDER BY rank
LIMIT $limit
