-- Cross-border spread of media clusters over time, from the rollups (never the facts):
--   clusters_first_seen              : clusters first sighted in the period (rollup_file_daily.new_clusters),
--                                      in the selected countries and platforms
--   clusters_reaching_second_country : clusters whose second country was first reached in the period
--                                      (rollup_cluster_spread_daily), that second country being one of
--                                      the selected countries; platforms do not apply (a cluster is
--                                      content seen on many platforms)
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter), $start, $end VARCHAR ISO
--             dates or NULL (inclusive), $grain VARCHAR ('week' | 'month' | 'quarter' | 'year').
-- Every period between the first and the last event is present (zero-filled).
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

-- @include period_rows file

first_seen AS (
    SELECT CAST(date_trunc(p.grain, f.date_key) AS DATE) AS period, sum(f.new_clusters) AS clusters
    FROM file_rows AS f
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, f.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, f.platform_name))
    GROUP BY 1
),

second_country AS (
    SELECT CAST(date_trunc(p.grain, s.date_key) AS DATE) AS period, sum(s.clusters) AS clusters
    FROM rollup_cluster_spread_daily AS s
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, s.country_iso3))
      AND (p.start_date IS NULL OR s.date_key >= p.start_date)
      AND (p.end_date IS NULL OR s.date_key <= p.end_date)
    GROUP BY 1
),

bounds AS (
    SELECT min(period) AS first_period, max(period) AS last_period
    FROM (SELECT period FROM first_seen WHERE clusters > 0 UNION ALL SELECT period FROM second_country WHERE clusters > 0)
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
        CAST(coalesce(f.clusters, 0) AS BIGINT) AS clusters_first_seen,
        CAST(coalesce(s.clusters, 0) AS BIGINT) AS clusters_reaching_second_country
    FROM periods AS d
    LEFT JOIN first_seen AS f ON f.period = d.period
    LEFT JOIN second_country AS s ON s.period = d.period
)

SELECT period, clusters_first_seen, clusters_reaching_second_country
FROM final
ORDER BY period
