-- Alerts of the latest run (or the one named) from analytics_alert, where every alerting detector's
-- rows are copied in one shape (anomalies, change points, emerging / vanishing entities), with the
-- finding (rank, headline) that states each one when there is one. A model-drift alert ('drift': the active
-- triage model's feature or score distribution shifted, analytics/model_monitoring.py) has no finding; its
-- headline says what drifted in words: "feature X: PSI 0.45 (chance 0.08)". Drift alerts are EU-wide (series
-- high_priority_share|week|none|total), so a country-scoped reader never sees them.
-- Parameters: $run_id VARCHAR ('' = latest); $metrics, $kinds ('anomaly', 'changepoint', 'emerging',
--             'vanishing', 'drift'), $countries, $platforms VARCHAR[] (empty = all; a country or platform
--             filter keeps that split's entities only); $sort_by VARCHAR: 'importance' (finding score),
--             'date' (newest first) or 'magnitude' (largest relative change first); $limit BIGINT;
--             $scope_countries VARCHAR[]: NULL = the reader may see everything; otherwise only alerts
--             about those countries (never the EU total or a platform, which mix every country);
--             $show VARCHAR: 'all'; 'attention' (material, or not assessed, and not in $reviewed_keys);
--             'new' (the same, and new since the series' previous run); 'reviewed' (in $reviewed_keys);
--             $reviewed_keys VARCHAR[]: the alert keys the reader has acknowledged or dismissed;
--             $start, $end VARCHAR: ISO dates or NULL, the period the alert's date must fall in (inclusive).
-- Columns: before = expected value / level before / baseline mean; after = value / level after /
-- recent mean; relative = after / before - 1 as the detector computed it; strength = robust z
-- (anomaly), confidence (change point) or recent share of the split (emerging / vanishing); for drift,
-- before = the PSI expected by chance, after = the PSI, strength = PSI / (threshold + chance), subject = the
-- feature or 'score';
-- matching / matching_new / matching_material = how many alerts match (of them, new or not known to be old;
-- material or not assessed) before $limit, so a caller can fetch one page and still count them all.
WITH params AS (
    SELECT
        CAST($run_id AS VARCHAR) AS run_id,
        CAST($metrics AS VARCHAR[]) AS metrics,
        CAST($kinds AS VARCHAR[]) AS kinds,
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($scope_countries AS VARCHAR[]) AS scope_countries,
        CAST($sort_by AS VARCHAR) AS sort_by,
        CAST($show AS VARCHAR) AS show,
        CAST($reviewed_keys AS VARCHAR[]) AS reviewed_keys,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date
),

-- @include chosen_run

selected AS (
    SELECT a.*
    FROM analytics_alert AS a
    JOIN chosen AS c ON c.run_id = a.run_id
    CROSS JOIN params AS p
    WHERE (len(p.metrics) = 0 OR list_contains(p.metrics, a.metric))
      AND (len(p.kinds) = 0 OR list_contains(p.kinds, a.kind))
      AND ((len(p.countries) = 0 AND len(p.platforms) = 0)
           OR (a.split_by = 'country' AND list_contains(p.countries, a.entity))
           OR (a.split_by = 'platform' AND list_contains(p.platforms, a.entity)))
      AND (p.scope_countries IS NULL
           OR (a.split_by = 'country' AND list_contains(p.scope_countries, a.entity)))
      AND (p.start_date IS NULL OR a.date >= p.start_date)
      AND (p.end_date IS NULL OR a.date <= p.end_date)
      AND CASE p.show
              WHEN 'all' THEN TRUE
              WHEN 'reviewed' THEN list_contains(p.reviewed_keys, a.alert_key)
              WHEN 'new' THEN coalesce(a.material, TRUE) AND coalesce(a.is_new, TRUE)
                              AND NOT list_contains(p.reviewed_keys, a.alert_key)
              ELSE coalesce(a.material, TRUE) AND NOT list_contains(p.reviewed_keys, a.alert_key)
          END
),

final AS (
    SELECT s.kind, s.series_id, s.metric, s.grain, s.split_by, s.entity, s.date, s.direction, s.before, s.after,
           s.relative, s.strength, s.alert_key, s.material, s.is_new, s.subject, f.rank AS finding_rank,
           f.score AS importance,
           coalesce(f.headline, CASE WHEN s.kind = 'drift' THEN
               CASE WHEN s.subject LIKE 'score%' THEN 'model ' || s.subject ELSE 'feature ' || coalesce(s.subject, 'unnamed') END
               || ': PSI ' || printf('%.2f', s.after) || ' (chance ' || printf('%.2f', s.before) || ')'
           END) AS headline,
           count(*) OVER () AS matching, count_if(coalesce(s.is_new, TRUE)) OVER () AS matching_new,
           count_if(coalesce(s.material, TRUE)) OVER () AS matching_material,
           CASE WHEN p.sort_by = 'date' THEN s.date END AS by_date,
           CASE WHEN p.sort_by = 'magnitude' THEN abs(s.relative) END AS by_magnitude
    FROM selected AS s
    CROSS JOIN params AS p
    LEFT JOIN analytics_finding AS f
        ON f.run_id = s.run_id AND f.series_id = s.series_id AND f.kind = s.kind AND f.date = s.date
)

SELECT kind, series_id, metric, grain, split_by, entity, date, direction, before, after, relative, strength,
       alert_key, material, is_new, subject, finding_rank, importance, headline, matching, matching_new,
       matching_material
FROM final
ORDER BY by_date DESC NULLS LAST, by_magnitude DESC NULLS LAST, importance DESC NULLS LAST, date DESC, series_id, kind
LIMIT $limit
