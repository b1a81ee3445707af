-- One metric (or several of the same rollup) per period and per entity of a split, calendar-complete.
-- Parameters: $grain VARCHAR ('day' | 'week' (ISO, Monday start) | 'month' | 'quarter' | 'year'),
--             one VARCHAR[] list per dimension of the rollup, e.g. $countries, $platforms
--             (empty list = no filter),
--             $drop_partial BOOLEAN (drop a first/last period the rollup's dates only partly cover),
--             $split BOOLEAN (one series per entity; without it the one 'total' series exists even
--             when the filters select no rows).
-- Identifiers in braces are filled in by analytics.warehouse_series from fixed allow-lists only
-- (never from user input): {calendar} is the rollup whose date range makes the calendar, {rollup}
-- a daily rollup (or a per-period mart read as `date_key` = period start for this grain),
-- the day_sums, period_sums and final_measures placeholders list the measures summed (by default `numerator`
-- and `denominator`, expressions over the rollup's columns or 0; `load_series_group` names one per expression
-- of several metrics), {entity} is a dimension
-- column, an unnest of the annotation names a row carries, or the constant 'total'; the
-- dimension_filters placeholder becomes one `AND (...)` condition per dimension.
-- The calendar spans the whole rollup, not the filtered rows, so every selection and every entity
-- shares one calendar; periods without rows get explicit zeros.
WITH params AS (
    SELECT
        CAST($grain AS VARCHAR) AS grain,
        CAST($drop_partial AS BOOLEAN) AS drop_partial,
        CAST($split AS BOOLEAN) AS split
),

-- @include covered_until

-- The rollup's first and last day as two plain aggregates, which DuckDB answers from the table's statistics
-- instead of scanning it (a hub warehouse's last month counts as whole: `covered`).
data_range AS (
    SELECT r.first_day, greatest(r.last_day, (SELECT until FROM covered)) AS last_day
    FROM (SELECT min(date_key) AS first_day, max(date_key) AS last_day FROM {calendar}) AS r
),

-- Every period start from the first day's period to the last day's, stepped by the grain (ISO weeks start on
-- a Monday); with drop_partial, a first or last period the data only partly cover is left out.
complete_calendar AS (
    SELECT CAST(d.ds AS DATE) AS ds
    FROM data_range AS r
    CROSS JOIN params AS p
    CROSS JOIN range(
        CAST(date_trunc(p.grain, r.first_day) AS TIMESTAMP),
        CAST(r.last_day + INTERVAL 1 DAY AS TIMESTAMP),
        CASE p.grain WHEN 'day' THEN INTERVAL 1 DAY WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH
                     WHEN 'quarter' THEN INTERVAL 3 MONTH ELSE INTERVAL 1 YEAR END
    ) AS d(ds)
    WHERE r.first_day IS NOT NULL
      AND (NOT p.drop_partial
           OR (CAST(d.ds AS DATE) >= r.first_day
               AND (CAST(d.ds AS DATE) < CAST(date_trunc(p.grain, r.last_day) AS DATE)
                    OR date_trunc(p.grain, r.last_day + INTERVAL 1 DAY) > date_trunc(p.grain, r.last_day))))
),

-- Summing per day first and truncating the few day rows to periods afterwards is several times
-- faster than truncating every rollup row.
per_day AS (
    SELECT
        r.date_key AS day,
        CAST({entity} AS VARCHAR) AS entity,
        {day_sums}
    FROM {rollup} AS r
    WHERE true
      {dimension_filters}
    GROUP BY ALL
),

-- The split's entities with data, or the one 'total' series (present even when no row is selected).
entities AS (
    SELECT DISTINCT entity FROM per_day WHERE (SELECT split FROM params)
    UNION ALL
    SELECT 'total' AS entity FROM params AS p WHERE NOT p.split
),

per_period AS (
    SELECT CAST(date_trunc(p.grain, d.day) AS DATE) AS ds, d.entity, {period_sums}
    FROM per_day AS d
    CROSS JOIN params AS p
    GROUP BY ALL
)

SELECT
    c.ds,
    e.entity,
    {final_measures}
FROM complete_calendar AS c
CROSS JOIN entities AS e
LEFT JOIN per_period AS t ON t.ds = c.ds AND t.entity = e.entity
ORDER BY e.entity, c.ds
