-- Referrals per calendar year and country (by incident date), for the countries of a report's scope,
-- every country and year present (zero when none): the warehouse's side of the comparison with published
-- figures. Also the first and last day of data, so the report can tell complete years from partial ones.
-- Parameters: $countries VARCHAR[] (ISO-3), $first_year, $last_year INTEGER (inclusive).
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($first_year AS INTEGER) AS first_year,
        CAST($last_year AS INTEGER) AS last_year
),

span AS (
    SELECT min(date_key) AS first_day, max(date_key) AS last_day
    FROM rollup_referral_daily
),

per_year AS (
    SELECT CAST(year(r.date_key) AS INTEGER) AS year, r.country_iso3, sum(r.referrals) AS referrals
    FROM rollup_referral_monthly AS r  -- years are whole months
    CROSS JOIN params AS p
    WHERE list_contains(p.countries, r.country_iso3)
      AND year(r.date_key) BETWEEN p.first_year AND p.last_year
    GROUP BY 1, 2
),

grid AS (
    SELECT CAST(y.year AS INTEGER) AS year, unnest(p.countries) AS country_iso3
    FROM params AS p
    CROSS JOIN range(p.first_year, p.last_year + 1) AS y(year)
),

final AS (
    SELECT
        g.year,
        g.country_iso3,
        CAST(coalesce(t.referrals, 0) AS BIGINT) AS referrals,
        s.first_day,
        s.last_day
    FROM grid AS g
    CROSS JOIN span AS s
    LEFT JOIN per_year AS t ON t.year = g.year AND t.country_iso3 = g.country_iso3
)

SELECT year, country_iso3, referrals, first_day, last_day
FROM final
ORDER BY year DESC, country_iso3
