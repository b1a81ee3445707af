-- A stock (level at each period's end) from a daily flow rollup, per period (and per entity of a
-- split), calendar-complete: the running sum of the net flow up to and including the period.
-- Used for the backlog: referrals received minus referrals triaged (rollup_backlog_daily).
-- Parameters and placeholders as in series_rollup.sql: $grain, one list per dimension, $drop_partial,
-- $split; {calendar}, {rollup}, {numerator} (the net flow expression), {entity} and the dimension
-- filters are filled in by analytics.warehouse_series from fixed allow-lists only.
-- Flows outside the calendar still count: the level at a period is the last running sum at or
-- before it (ASOF join), so flows dated before the first shown period are never lost.
WITH params AS (
    SELECT
        CAST($grain AS VARCHAR) AS grain,
        CAST($drop_partial AS BOOLEAN) AS drop_partial,
        CAST($split AS BOOLEAN) AS split
),

data_range AS (
    SELECT min(date_key) AS first_day, max(date_key) AS last_day
    FROM {calendar}
),

calendar AS (
    SELECT DISTINCT CAST(date_trunc(p.grain, CAST(d.day AS DATE)) AS DATE) AS ds
    FROM data_range AS r
    CROSS JOIN params AS p
    CROSS JOIN range(r.first_day, r.last_day + INTERVAL 1 DAY, INTERVAL 1 DAY) AS d(day)
    WHERE r.first_day IS NOT NULL
),

complete_calendar AS (
    SELECT c.ds
    FROM calendar AS c
    CROSS JOIN data_range AS r
    CROSS JOIN params AS p
    WHERE NOT p.drop_partial
       OR (c.ds >= r.first_day
           AND (c.ds < CAST(date_trunc(p.grain, r.last_day) AS DATE)
                OR date_trunc(p.grain, r.last_day + INTERVAL 1 DAY) > date_trunc(p.grain, r.last_day)))
),

selected AS (
    SELECT
        CAST(date_trunc(p.grain, r.date_key) AS DATE) AS ds,
        CAST({entity} AS VARCHAR) AS entity,
        {numerator} AS net
    FROM {rollup} AS r
    CROSS JOIN params AS p
    WHERE true
      {dimension_filters}
),

entities AS (
    SELECT DISTINCT entity FROM selected
    UNION
    SELECT 'total' AS entity FROM params AS p WHERE NOT p.split
),

per_period AS (
    SELECT ds, entity, sum(net) AS net
    FROM selected
    GROUP BY ds, entity
),

running AS (
    SELECT ds, entity, sum(net) OVER (PARTITION BY entity ORDER BY ds) AS level
    FROM per_period
),

final AS (
    SELECT
        c.ds,
        e.entity,
        CAST(coalesce(t.level, 0) AS DOUBLE) AS numerator,
        CAST(0 AS DOUBLE) AS denominator
    FROM complete_calendar AS c
    CROSS JOIN entities AS e
    ASOF LEFT JOIN running AS t ON t.entity = e.entity AND c.ds >= t.ds
)

SELECT ds, entity, numerator, denominator
FROM final
ORDER BY entity, ds
