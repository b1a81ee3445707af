-- A report period's totals per country (by incident date) for the countries of its scope (empty list:
-- every country with data): referrals, actionable referrals and files, every scope country present.
-- Parameters: $countries VARCHAR[], $start, $end DATE.
WITH params AS (
    SELECT CAST($countries AS VARCHAR[]) AS countries, CAST($start AS DATE) AS start_date, CAST($end AS DATE) AS end_date
),

rollup_choice AS (
    SELECT 'month' AS coarse
),

-- @include period_rows referral

per_country AS (
    SELECT r.country_iso3, sum(r.referrals) AS referrals, sum(r.actionable) AS actionable, sum(r.files) AS files
    FROM referral_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
    GROUP BY r.country_iso3
),

countries AS (
    SELECT unnest(p.countries) AS country_iso3 FROM params AS p
    UNION
    SELECT country_iso3 FROM per_country
),

final AS (
    SELECT
        c.country_iso3,
        CAST(coalesce(t.referrals, 0) AS BIGINT) AS referrals,
        CAST(coalesce(t.actionable, 0) AS BIGINT) AS actionable,
        CAST(coalesce(t.files, 0) AS BIGINT) AS files
    FROM countries AS c
    LEFT JOIN per_country AS t ON t.country_iso3 = c.country_iso3
)

SELECT country_iso3, referrals, actionable, files
FROM final
ORDER BY country_iso3
