-- Clusters first seen in this batch.
WITH reach AS (
    SELECT cluster_id, CAST(count(DISTINCT country_iso3) AS INTEGER) AS country_count,
           CAST(count(DISTINCT agency_code) AS INTEGER) AS agency_count
    FROM cluster_reach
    WHERE cluster_id IN (SELECT cluster_id FROM batch_cluster_stats WHERE is_new_cluster)
    GROUP BY cluster_id
),
final AS (
    SELECT s.cluster_id, s.md5, s.sha1, s.pdq,
           EXISTS (SELECT 1 FROM hash_set_entry AS h WHERE h.md5 = s.md5 OR h.sha1 = s.sha1) AS is_known,
           s.first_date AS first_seen_date, s.first_country AS first_seen_country, s.first_agency AS first_seen_agency,
           s.last_date AS last_seen_date, s.occurrences, s.referrals AS referral_count,
           reach.country_count, reach.agency_count
    FROM batch_cluster_stats AS s JOIN reach USING (cluster_id)
    WHERE s.is_new_cluster
)
SELECT * FROM final ORDER BY cluster_id
