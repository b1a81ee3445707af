-- A report period's released cells on a hub warehouse, per country and platform of the release domain
-- (dp_release_cell, months from $start to $end): the sum of the noisy counts the agencies showed and how
-- many cells they suppressed. A country × platform whose every cell was suppressed has `referrals` NULL,
-- never 0; a country no agency released for has no row. reporting/tables.py builds the hub's tables from it.
-- Parameters: $countries VARCHAR[] (empty list: every country), $start, $end DATE.
WITH params AS (
    SELECT CAST($countries AS VARCHAR[]) AS countries, CAST($start AS DATE) AS start_date, CAST($end AS DATE) AS end_date
),

cells AS (
    SELECT c.country_iso3, c.platform_name, c.referrals, c.suppressed
    FROM dp_release_cell AS c
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, c.country_iso3))
      AND c.month BETWEEN p.start_date AND p.end_date
),

final AS (
    SELECT
        country_iso3,
        platform_name AS platform,
        CAST(sum(referrals) FILTER (WHERE NOT suppressed) AS BIGINT) AS referrals,
        CAST(count(*) FILTER (WHERE suppressed) AS BIGINT) AS suppressed_cells,
        CAST(count(*) AS BIGINT) AS cells
    FROM cells
    GROUP BY country_iso3, platform_name
)

SELECT country_iso3, platform, referrals, suppressed_cells, cells
FROM final
ORDER BY country_iso3, platform
