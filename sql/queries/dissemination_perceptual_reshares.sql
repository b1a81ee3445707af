-- Re-shares of near-duplicate material per period, from rollup_perceptual_daily and its
-- weekly and monthly copies (never the facts):
--   files                   : file occurrences in the selection
--   cross_platform_reshares : files of a perceptual cluster (PDQ near-duplicates, across exact variants)
--                             that are not its first sighting, seen on a platform other than the one it
--                             was first seen on
--   cross_country_reshares  : the same, seen in a country other than the one it was first seen in
--   *_share                 : those / files (0 in a period without files)
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter; a scoped user's countries come
--             in $countries), $start, $end VARCHAR ISO dates or NULL (inclusive), $grain VARCHAR
--             ('week' | 'month' | 'quarter' | 'year').
-- Every period between the first and the last with files is present (zero-filled).
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date,
        CAST($grain AS VARCHAR) AS grain
),

rollup_choice AS (
    SELECT CASE p.grain WHEN 'week' THEN 'week' WHEN 'day' THEN 'day' ELSE 'month' END AS coarse
    FROM params AS p
),

-- @include period_rows perceptual

per_period AS (
    SELECT
        CAST(date_trunc(p.grain, r.date_key) AS DATE) AS period,
        sum(r.files) AS files,
        sum(r.cross_platform_reshares) AS cross_platform_reshares,
        sum(r.cross_country_reshares) AS cross_country_reshares
    FROM perceptual_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY 1
),

bounds AS (
    SELECT min(period) AS first_period, max(period) AS last_period FROM per_period WHERE files > 0
),

periods AS (
    SELECT DISTINCT CAST(date_trunc(p.grain, CAST(d.day AS DATE)) AS DATE) AS period
    FROM bounds AS b
    CROSS JOIN params AS p
    CROSS JOIN range(b.first_period, b.last_period + INTERVAL 1 DAY, INTERVAL 1 DAY) AS d(day)
    WHERE b.first_period IS NOT NULL
),

final AS (
    SELECT
        d.period,
        CAST(coalesce(t.files, 0) AS BIGINT) AS files,
        CAST(coalesce(t.cross_platform_reshares, 0) AS BIGINT) AS cross_platform_reshares,
        CAST(coalesce(t.cross_country_reshares, 0) AS BIGINT) AS cross_country_reshares
    FROM periods AS d
    LEFT JOIN per_period AS t ON t.period = d.period
)

SELECT
    period,
    files,
    cross_platform_reshares,
    cross_country_reshares,
    CASE WHEN files > 0 THEN cross_platform_reshares / files ELSE 0 END AS cross_platform_share,
    CASE WHEN files > 0 THEN cross_country_reshares / files ELSE 0 END AS cross_country_share
FROM final
ORDER BY period
