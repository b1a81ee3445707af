-- Platform x country matrix: referrals per platform and country in the selection.
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter), $start, $end VARCHAR ISO
-- dates or NULL. Only pairs with referrals are returned; the figure fills the rest of the grid.
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date
),

rollup_choice AS (
    SELECT 'month' AS coarse
),

-- @include period_rows referral

selected AS (
    SELECT r.platform_name, r.country_iso3, sum(r.referrals) AS referrals
    FROM referral_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY r.platform_name, r.country_iso3
),

final AS (
    SELECT
        s.platform_name,
        s.country_iso3,
        coalesce(c.country_name, s.country_iso3) AS country_name,
        CAST(s.referrals AS BIGINT) AS referrals
    FROM selected AS s
    LEFT JOIN dim_country AS c ON c.country_iso3 = s.country_iso3
    WHERE s.referrals > 0
)

SELECT platform_name, country_iso3, country_name, referrals
FROM final
ORDER BY platform_name, country_iso3
