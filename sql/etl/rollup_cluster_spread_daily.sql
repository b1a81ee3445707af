-- Clusters whose second country was first reached on each affected day, by that country.
WITH final AS (
    SELECT reached_date AS date_key, country_iso3, count(*) AS clusters
    FROM cluster_spread
    WHERE reached_date IN (SELECT date_key FROM affected_spread_dates)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
