-- For every cluster this batch saw, recomputed from its reach: the day its second country was first
-- reached and that country (ties broken by country code); one-country clusters have no row. Its reach
-- now is its rows before the batch (`reach_before`; none for a new cluster) and the batch's, each pair
-- at the earlier of the two days. Most clusters have one reach row, so only those with several are ranked.
WITH per_country AS (
    SELECT cluster_id, country_iso3, min(first_seen_date) AS first_seen_date
    FROM (
        SELECT cluster_id, country_iso3, first_seen_date FROM reach_before
        UNION ALL
        SELECT cluster_id, country_iso3, first_seen_date FROM batch_reach
    )
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
