-- Change points and anomalies that the latest `grace analyse` run found in the series a Trend
-- explorer view shows, for annotating its chart.
-- Parameters: $metric, $grain VARCHAR; $split_by VARCHAR ('none' for the EU total, 'country',
--             'platform'); $entities VARCHAR[] (the series' entities, e.g. ['total'] or ISO-3 codes).
-- One row per event: kind ('changepoint' | 'anomaly'), the entity, the date and the detector's numbers
-- (before = level before / expected value, after = level after / observed value).
WITH params AS (
    SELECT
        CAST($metric AS VARCHAR) AS metric,
        CAST($grain AS VARCHAR) AS grain,
        CAST($split_by AS VARCHAR) AS split_by,
        CAST($entities AS VARCHAR[]) AS entities
),

latest AS (
    SELECT run_id
    FROM analytics_run
    ORDER BY created_at DESC, run_id DESC
    LIMIT 1
),

events AS (
    SELECT 'changepoint' AS kind, c.run_id, c.metric, c.grain, c.split_by, c.entity, c.date, c.direction,
           c.level_before AS before, c.level_after AS after, c.relative_change AS relative, c.confidence AS strength
    FROM analytics_changepoint AS c
    UNION ALL
    SELECT 'anomaly' AS kind, a.run_id, a.metric, a.grain, a.split_by, a.entity, a.date, a.direction,
           a.expected, a.value, a.relative, a.score
    FROM analytics_anomaly AS a
),

final AS (
    SELECT e.kind, e.entity, e.date, e.direction, e.before, e.after, e.relative, e.strength
    FROM events AS e
    JOIN latest AS l ON l.run_id = e.run_id
    CROSS JOIN params AS p
    WHERE e.metric = p.metric AND e.grain = p.grain AND e.split_by = p.split_by
      AND list_contains(p.entities, e.entity)
)

SELECT kind, entity, date, direction, before, after, relative, strength
FROM final
ORDER BY date, kind, entity
