-- Countries present in the referral rollup, for the country filter, named from dim_country.
WITH present AS (
    SELECT DISTINCT country_iso3
    FROM rollup_referral_daily
),

final AS (
    SELECT
        p.country_iso3,
        coalesce(c.country_name, p.country_iso3) AS country_name
    FROM present AS p
    LEFT JOIN dim_country AS c ON c.country_iso3 = p.country_iso3
)

SELECT country_iso3, country_name
FROM final
ORDER BY country_name
