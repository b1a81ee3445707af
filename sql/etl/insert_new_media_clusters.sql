-- Clusters first seen in this batch (all their reach is in this batch; most are seen in one
-- country by one agency, and only the others need their places counted).
WITH reach AS (
    SELECT cluster_id, CAST(count(DISTINCT country_iso3) AS INTEGER) AS country_count,
           CAST(count(DISTINCT agency_code) AS INTEGER) AS agency_count
    FROM batch_reach
    WHERE is_new_cluster
      AND cluster_id IN (SELECT cluster_id FROM batch_reach WHERE is_new_cluster GROUP BY cluster_id HAVING count(*) > 1)
    GROUP BY cluster_id
),
final AS (
    SELECT s.cluster_id, s.md5, s.sha1, s.pdq,
           coalesce(s.md5 IN (SELECT md5 FROM hash_set_entry WHERE md5 IS NOT NULL), false)
               OR coalesce(s.sha1 IN (SELECT sha1 FROM hash_set_entry WHERE sha1 IS NOT NULL), false) AS is_known,
           s.first_date AS first_seen_date, s.first_country AS first_seen_country, s.first_agency AS first_seen_agency,
           s.last_date AS last_seen_date, s.occurrences, s.referrals AS referral_count,
           coalesce(reach.country_count, 1) AS country_count, coalesce(reach.agency_count, 1) AS agency_count
    FROM batch_cluster_stats AS s LEFT JOIN reach USING (cluster_id)
    WHERE s.is_new_cluster
)
SELECT * FROM final
