-- How far and how fast media clusters spread, pre-aggregated for the Dissemination page: clusters
-- by first-seen day and country, the bucket of countries they reached, and (for clusters seen in
-- two or more countries) the bucket of days from the first sighting to the second country.
-- Reads `mart_reach_changes` (first_seen_date, first_seen_country, country_count, reached_date,
-- sign): either every cluster once with sign +1 (filling the mart whole,
-- mart_reach_all_clusters.sql) or a batch's clusters as counted before it (-1) and after it (+1),
-- whose sum per cell is the change to apply (mart_cluster_reach_merge.sql). Cells whose sum is 0
-- are left out. Buckets:
--   countries_bucket 1, 2, 3, 4 = that many; 5 = 5-9; 6 = 10-19; 7 = 20+
--   days_bucket      1 = same day; 2 = 1-7; 3 = 8-30; 4 = 31-90; 5 = 91-365; 6 = > 365; NULL = one country
WITH clusters AS (
    SELECT
        c.first_seen_date,
        c.first_seen_country,
        CASE
            WHEN c.country_count <= 4 THEN c.country_count
            WHEN c.country_count <= 9 THEN 5
            WHEN c.country_count <= 19 THEN 6
            ELSE 7
        END AS countries_bucket,
        CASE
            WHEN c.reached_date IS NULL OR c.country_count < 2 THEN NULL
            WHEN datediff('day', c.first_seen_date, c.reached_date) <= 0 THEN 1
            WHEN datediff('day', c.first_seen_date, c.reached_date) <= 7 THEN 2
            WHEN datediff('day', c.first_seen_date, c.reached_date) <= 30 THEN 3
            WHEN datediff('day', c.first_seen_date, c.reached_date) <= 90 THEN 4
            WHEN datediff('day', c.first_seen_date, c.reached_date) <= 365 THEN 5
            ELSE 6
        END AS days_bucket,
        c.sign
    FROM mart_reach_changes AS c
),

final AS (
    SELECT first_seen_date, first_seen_country, countries_bucket, days_bucket, sum(sign) AS clusters
    FROM clusters
    GROUP BY ALL
    HAVING sum(sign) <> 0
)

SELECT first_seen_date, first_seen_country, countries_bucket, days_bucket, CAST(clusters AS BIGINT) AS clusters
FROM final
ORDER BY first_seen_date, first_seen_country, countries_bucket, days_bucket
