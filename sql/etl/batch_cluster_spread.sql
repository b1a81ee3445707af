-- For every cluster this batch saw, recomputed from cluster_reach: the day its second country
-- was first reached and that country (ties broken by country code); one-country clusters have
-- no row. Most clusters have one reach row, so only those with several are ranked.
WITH touched AS (
    SELECT DISTINCT cluster_id FROM batch_reach
),
per_country AS (
    SELECT cluster_id, country_iso3, min(first_seen_date) AS first_seen_date
    FROM cluster_reach
    WHERE cluster_id IN (SELECT cluster_id FROM touched)
    GROUP BY cluster_id, country_iso3
),
ranked AS (
    SELECT cluster_id, country_iso3, first_seen_date,
           row_number() OVER (PARTITION BY cluster_id ORDER BY first_seen_date, country_iso3) AS n
    FROM per_country
    WHERE cluster_id IN (SELECT cluster_id FROM per_country GROUP BY cluster_id HAVING count(*) > 1)
),
final AS (
    SELECT cluster_id, first_seen_date AS reached_date, country_iso3
    FROM ranked
    WHERE n = 2
)
SELECT * FROM final
