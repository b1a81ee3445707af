-- Clusters first seen in this batch (all their reach is in this batch: `batch_reach_counts`).
WITH final AS (
    SELECT s.cluster_id, s.md5, s.sha1, s.pdq,
           coalesce(s.md5 IN (SELECT md5 FROM hash_set_entry WHERE md5 IS NOT NULL), false)
               OR coalesce(s.sha1 IN (SELECT sha1 FROM hash_set_entry WHERE sha1 IS NOT NULL), false) AS is_known,
           s.first_date AS first_seen_date, s.first_country AS first_seen_country, s.first_agency AS first_seen_agency,
           s.last_date AS last_seen_date, s.occurrences, s.referrals AS referral_count,
           reach.country_count, reach.agency_count
    FROM batch_cluster_stats AS s JOIN batch_reach_counts AS reach USING (cluster_id)
    WHERE s.is_new_cluster
)
SELECT * FROM final
