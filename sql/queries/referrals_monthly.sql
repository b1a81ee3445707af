-- Monthly referrals for a selection of countries and platforms, one row per month and series.
-- Parameters: $countries VARCHAR[], $platforms VARCHAR[] (empty list = no filter),
--             $split_by_country BOOLEAN (one series per selected country instead of one total).
-- Every month between the first and last month of the whole rollup is present (zero-filled),
-- so the x axis does not move when filters change; `is_partial` marks a month whose data end
-- before the month does (the latest month is usually incomplete). On a hub warehouse, a month whose every
-- released cell in the selection was suppressed has referrals NULL (unknown, not zero).
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($split_by_country AS BOOLEAN) AS split_by_country
),

-- @include covered_until

data_range AS (
    SELECT
        CAST(date_trunc('month', min(r.date_key)) AS DATE) AS first_month,
        CAST(date_trunc('month', max(r.date_key)) AS DATE) AS last_month,
        greatest(max(r.date_key), any_value(c.until)) AS last_date
    FROM rollup_referral_daily AS r
    CROSS JOIN covered AS c
),

months AS (
    SELECT CAST(m.month AS DATE) AS month
    FROM data_range AS d,
        range(d.first_month, d.last_month + INTERVAL 1 MONTH, INTERVAL 1 MONTH) AS m(month)
    WHERE d.first_month IS NOT NULL
),

selected AS (
    SELECT
        CAST(date_trunc('month', r.date_key) AS DATE) AS month,
        CASE WHEN p.split_by_country THEN r.country_iso3 ELSE 'ALL' END AS series_key,
        r.referrals
    FROM rollup_referral_monthly AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
),

series AS (
    SELECT
        s.series_key,
        CASE WHEN s.series_key = 'ALL' THEN 'Selection' ELSE coalesce(c.country_name, s.series_key) END AS series_name
    FROM (
        SELECT unnest(p.countries) AS series_key FROM params AS p WHERE p.split_by_country
        UNION
        SELECT 'ALL' AS series_key FROM params AS p WHERE NOT p.split_by_country
    ) AS s
    LEFT JOIN dim_country AS c ON c.country_iso3 = s.series_key
),

monthly AS (
    SELECT month, series_key, sum(referrals) AS referrals
    FROM selected
    GROUP BY month, series_key
),

-- On a hub warehouse of differentially private releases: the months of a series whose every released cell
-- was suppressed by the agencies. Their count is unknown, not zero: NULL, drawn as a gap.
withheld AS (
    SELECT
        r.month,
        CASE WHEN p.split_by_country THEN r.country_iso3 ELSE 'ALL' END AS series_key
    FROM dp_release_cell AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY ALL
    HAVING bool_and(r.suppressed)
),

final AS (
    SELECT
        m.month,
        s.series_key,
        s.series_name,
        CASE WHEN w.month IS NULL THEN CAST(coalesce(t.referrals, 0) AS BIGINT) END AS referrals,
        (m.month + INTERVAL 1 MONTH - INTERVAL 1 DAY) > d.last_date AS is_partial
    FROM months AS m
    CROSS JOIN series AS s
    CROSS JOIN data_range AS d
    LEFT JOIN monthly AS t ON t.month = m.month AND t.series_key = s.series_key
    LEFT JOIN withheld AS w ON w.month = m.month AND w.series_key = s.series_key
)

SELECT month, series_key, series_name, referrals, is_partial
FROM final
ORDER BY series_name, month
