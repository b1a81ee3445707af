-- Referrals per country for the map: every country of dim_country (zero when nothing was
-- reported), filtered by platform and period but not by the country selection, so the map keeps
-- showing the whole of Europe (and every country stays clickable) while the page highlights the
-- selected ones. $visible limits the countries returned at all (a user scoped to one country).
-- Parameters: $platforms VARCHAR[] (empty list = no filter), $start, $end VARCHAR ISO dates or NULL,
--             $visible VARCHAR[] (countries that may be shown; empty list = all).
WITH params AS (
    SELECT
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date,
        CAST($visible AS VARCHAR[]) AS visible
),

rollup_choice AS (
    SELECT 'month' AS coarse
),

-- @include period_rows referral

per_country AS (
    SELECT r.country_iso3, sum(r.referrals) AS referrals, sum(r.files) AS files
    FROM referral_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY r.country_iso3
),

countries AS (
    SELECT country_iso3, country_name, is_eu27 FROM dim_country
    UNION
    SELECT t.country_iso3, t.country_iso3 AS country_name, false AS is_eu27
    FROM per_country AS t
    WHERE t.country_iso3 NOT IN (SELECT country_iso3 FROM dim_country)
),

-- On a hub warehouse of differentially private releases (dp_release): a country no agency released is
-- unknown (NULL, no colour), not zero, and files are not released at all.
hub AS (
    SELECT count(*) > 0 AS is_hub FROM dp_release
),

released AS (
    SELECT DISTINCT country_iso3 FROM dp_release_cell
),

final AS (
    SELECT
        c.country_iso3,
        c.country_name,
        c.is_eu27,
        CASE WHEN NOT h.is_hub OR c.country_iso3 IN (SELECT country_iso3 FROM released)
             THEN CAST(coalesce(t.referrals, 0) AS BIGINT) END AS referrals,
        CASE WHEN NOT h.is_hub THEN CAST(coalesce(t.files, 0) AS BIGINT) END AS files
    FROM countries AS c
    CROSS JOIN params AS p
    CROSS JOIN hub AS h
    LEFT JOIN per_country AS t ON t.country_iso3 = c.country_iso3
    WHERE len(p.visible) = 0 OR list_contains(p.visible, c.country_iso3)
)

SELECT country_iso3, country_name, is_eu27, referrals, files
FROM final
ORDER BY country_name, country_iso3
