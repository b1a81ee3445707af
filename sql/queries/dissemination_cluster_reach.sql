-- How far and how fast media clusters spread: two distributions over the clusters first seen in
-- the selected countries and period (media_cluster.first_seen_country / first_seen_date).
--   measure 'countries' : clusters by the number of countries they reached (1, 2, 3, 4, 5-9, 10-19, 20+)
--   measure 'days'      : clusters seen in >= 2 countries, by days from the first sighting to the
--                         first sighting in a second country (cluster_spread.reached_date)
--                         (same day, 1-7, 8-30, 31-90, 91-365, > 365)
-- Parameters: $countries VARCHAR[] (empty list = all), $start, $end VARCHAR ISO dates or NULL.
-- Platforms do not apply (a cluster is content seen on many platforms).
-- Every bucket is returned, with zero when empty, so the bars keep their places.
-- Reads mart_cluster_reach (kept by the ETL; see sql/etl/mart_cluster_reach.sql for the buckets),
-- never the one-row-per-file media_cluster.
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date
),

clusters AS (
    SELECT m.countries_bucket, m.days_bucket, m.clusters
    FROM mart_cluster_reach AS m
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, m.first_seen_country))
      AND (p.start_date IS NULL OR m.first_seen_date >= p.start_date)
      AND (p.end_date IS NULL OR m.first_seen_date <= p.end_date)
),

buckets(measure, bucket_order, bucket) AS (
    VALUES
        ('countries', 1, '1'),
        ('countries', 2, '2'),
        ('countries', 3, '3'),
        ('countries', 4, '4'),
        ('countries', 5, '5–9'),
        ('countries', 6, '10–19'),
        ('countries', 7, '20+'),
        ('days', 1, 'same day'),
        ('days', 2, '1–7'),
        ('days', 3, '8–30'),
        ('days', 4, '31–90'),
        ('days', 5, '91–365'),
        ('days', 6, '> 365')
),

country_buckets AS (
    SELECT countries_bucket AS bucket_order, sum(clusters) AS clusters
    FROM clusters
    GROUP BY 1
),

day_buckets AS (
    SELECT days_bucket AS bucket_order, sum(clusters) AS clusters
    FROM clusters
    WHERE days_bucket IS NOT NULL
    GROUP BY 1
),

counted AS (
    SELECT 'countries' AS measure, bucket_order, clusters FROM country_buckets
    UNION ALL
    SELECT 'days' AS measure, bucket_order, clusters FROM day_buckets
),

final AS (
    SELECT b.measure, b.bucket_order, b.bucket, CAST(coalesce(c.clusters, 0) AS BIGINT) AS clusters
    FROM buckets AS b
    LEFT JOIN counted AS c ON c.measure = b.measure AND c.bucket_order = b.bucket_order
)

SELECT measure, bucket_order, bucket, clusters
FROM final
ORDER BY measure, bucket_order
