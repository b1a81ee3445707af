-- Top movers: the countries and platforms whose referrals changed most between the latest
-- $months complete months of the period and the $months before them.
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter); $end DATE (NULL = the
--             latest day of the rollup); $months INTEGER (window length); $limit INTEGER (per dimension).
-- One row per dimension ('country' | 'platform') and entity, ranked by the absolute change.
-- Reads the referral rollups only: the latest day from the daily one, the two windows of whole months
-- from the monthly one.
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($end AS DATE) AS end_date,
        CAST($months AS INTEGER) AS months,
        CAST($limit AS INTEGER) AS top
),

anchor AS (
    SELECT least(max(r.date_key), coalesce(p.end_date, max(r.date_key))) AS last_day
    FROM rollup_referral_daily AS r
    CROSS JOIN params AS p
    GROUP BY p.end_date
),

windows AS (
    SELECT
        CAST(w.recent_end - to_months(p.months) AS DATE) AS recent_start,
        w.recent_end,
        CAST(w.recent_end - to_months(2 * p.months) AS DATE) AS previous_start
    FROM (
        -- the month after the last complete month (exclusive end of the recent window)
        SELECT CASE WHEN date_trunc('month', a.last_day + INTERVAL 1 DAY) > date_trunc('month', a.last_day)
                    THEN CAST(date_trunc('month', a.last_day + INTERVAL 1 DAY) AS DATE)
                    ELSE CAST(date_trunc('month', a.last_day) AS DATE) END AS recent_end
        FROM anchor AS a
    ) AS w
    CROSS JOIN params AS p
),

scoped AS (
    SELECT r.country_iso3, r.platform_name, r.referrals, r.date_key >= w.recent_start AS is_recent
    FROM rollup_referral_monthly AS r  -- both windows are whole months
    CROSS JOIN params AS p
    CROSS JOIN windows AS w
    WHERE r.date_key >= w.previous_start AND r.date_key < w.recent_end
      AND (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
),

per_entity AS (
    SELECT 'country' AS dimension, country_iso3 AS entity,
           sum(CASE WHEN is_recent THEN referrals ELSE 0 END) AS recent,
           sum(CASE WHEN is_recent THEN 0 ELSE referrals END) AS previous
    FROM scoped
    GROUP BY country_iso3
    UNION ALL
    SELECT 'platform' AS dimension, platform_name AS entity,
           sum(CASE WHEN is_recent THEN referrals ELSE 0 END) AS recent,
           sum(CASE WHEN is_recent THEN 0 ELSE referrals END) AS previous
    FROM scoped
    GROUP BY platform_name
),

ranked AS (
    SELECT
        e.*,
        e.recent - e.previous AS change,
        row_number() OVER (PARTITION BY e.dimension ORDER BY abs(e.recent - e.previous) DESC, e.entity) AS position
    FROM per_entity AS e
),

final AS (
    SELECT
        r.dimension,
        r.entity,
        CASE WHEN r.dimension = 'country' THEN coalesce(c.country_name, r.entity) ELSE r.entity END AS label,
        CAST(r.recent AS BIGINT) AS recent,
        CAST(r.previous AS BIGINT) AS previous,
        CAST(r.change AS BIGINT) AS change,
        CASE WHEN r.previous > 0 THEN r.change / r.previous END AS relative_change,
        w.recent_start,
        CAST(w.recent_end - INTERVAL 1 DAY AS DATE) AS recent_last_day,
        w.previous_start,
        r.position
    FROM ranked AS r
    CROSS JOIN windows AS w
    CROSS JOIN params AS p
    LEFT JOIN dim_country AS c ON r.dimension = 'country' AND c.country_iso3 = r.entity
    WHERE r.position <= p.top AND r.change <> 0
)

SELECT dimension, entity, label, recent, previous, change, relative_change, recent_start, recent_last_day,
       previous_start, position
FROM final
ORDER BY dimension, position
