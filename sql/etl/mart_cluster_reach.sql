-- How far and how fast media clusters spread, pre-aggregated for the Dissemination page: clusters
-- by first-seen day and country, the bucket of countries they reached, and (for clusters seen in
-- two or more countries) the bucket of days from the first sighting to the second country.
-- Recomputed whole by every batch (after media_cluster and cluster_spread are current), so late
-- records that move a first sighting are always reflected. Buckets:
--   countries_bucket 1, 2, 3, 4 = that many; 5 = 5-9; 6 = 10-19; 7 = 20+
--   days_bucket      1 = same day; 2 = 1-7; 3 = 8-30; 4 = 31-90; 5 = 91-365; 6 = > 365; NULL = one country
WITH clusters AS (
    SELECT
        m.first_seen_date,
        m.first_seen_country,
        CASE
            WHEN m.country_count <= 4 THEN m.country_count
            WHEN m.country_count <= 9 THEN 5
            WHEN m.country_count <= 19 THEN 6
            ELSE 7
        END AS countries_bucket,
        CASE
            WHEN s.reached_date IS NULL OR m.country_count < 2 THEN NULL
            WHEN datediff('day', m.first_seen_date, s.reached_date) <= 0 THEN 1
            WHEN datediff('day', m.first_seen_date, s.reached_date) <= 7 THEN 2
            WHEN datediff('day', m.first_seen_date, s.reached_date) <= 30 THEN 3
            WHEN datediff('day', m.first_seen_date, s.reached_date) <= 90 THEN 4
            WHEN datediff('day', m.first_seen_date, s.reached_date) <= 365 THEN 5
            ELSE 6
        END AS days_bucket
    FROM media_cluster AS m
    LEFT JOIN cluster_spread AS s ON s.cluster_id = m.cluster_id
),

final AS (
    SELECT first_seen_date, first_seen_country, countries_bucket, days_bucket, count(*) AS clusters
    FROM clusters
    GROUP BY ALL
)

SELECT first_seen_date, first_seen_country, countries_bucket, days_bucket, clusters
FROM final
ORDER BY first_seen_date, first_seen_country, countries_bucket, days_bucket
