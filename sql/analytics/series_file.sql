-- One metric of rollup_file_daily per period (and per entity of a split), calendar-complete.
-- Parameters: $grain VARCHAR ('day' | 'week' (ISO, Monday start) | 'month' | 'quarter' | 'year'),
--             $countries, $platforms, $categories VARCHAR[] (empty list = no filter),
--             $drop_partial BOOLEAN (drop a first/last period the rollup's dates only partly cover),
--             $split BOOLEAN (one series per entity; without it the one 'total' series exists even
--             when the filters select no rows).
-- Identifiers in braces are filled in by analytics.warehouse_series from fixed allow-lists only
-- (never from user input): {numerator} and {denominator} are rollup columns (or 0), {entity} is a
-- dimension column (or the constant 'total').
-- The calendar spans the whole rollup, not the filtered rows, so every selection and every entity
-- shares one calendar; periods without rows get explicit zeros.
WITH params AS (
    SELECT
        CAST($grain AS VARCHAR) AS grain,
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($categories AS VARCHAR[]) AS categories,
        CAST($drop_partial AS BOOLEAN) AS drop_partial,
        CAST($split AS BOOLEAN) AS split
),

data_range AS (
    SELECT min(date_key) AS first_day, max(date_key) AS last_day
    FROM rollup_file_daily
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
        r.{numerator} AS numerator,
        {denominator} AS denominator
    FROM rollup_file_daily AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
      AND (len(p.categories) = 0 OR list_contains(p.categories, r.category_code))
),

entities AS (
    SELECT DISTINCT entity FROM selected
    UNION
    SELECT 'total' AS entity FROM params AS p WHERE NOT p.split
),

per_period AS (
    SELECT ds, entity, sum(numerator) AS numerator, sum(denominator) AS denominator
    FROM selected
    GROUP BY ds, entity
),

final AS (
    SELECT
        c.ds,
        e.entity,
        CAST(coalesce(t.numerator, 0) AS DOUBLE) AS numerator,
        CAST(coalesce(t.denominator, 0) AS DOUBLE) AS denominator
    FROM complete_calendar AS c
    CROSS JOIN entities AS e
    LEFT JOIN per_period AS t ON t.ds = c.ds AND t.entity = e.entity
)

SELECT ds, entity, numerator, denominator
FROM final
ORDER BY entity, ds
