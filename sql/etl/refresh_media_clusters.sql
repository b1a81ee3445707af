-- Recomputed rows for every cluster the batch touched, from all its occurrences.
WITH touched AS (
    SELECT DISTINCT cluster_id FROM batch_clustered
),
stats AS (
    SELECT o.cluster_id,
           min(o.incident_date)                                           AS first_seen_date,
           any_value(o.country_iso3) FILTER (WHERE o.is_first_sighting)   AS first_seen_country,
           any_value(o.agency_code) FILTER (WHERE o.is_first_sighting)    AS first_seen_agency,
           max(o.incident_date)                                           AS last_seen_date,
           count(*)                                                       AS occurrences,
           count(DISTINCT o.referral_key)                                 AS referral_count,
           CAST(count(DISTINCT o.country_iso3) AS INTEGER)                AS country_count,
           CAST(count(DISTINCT o.agency_code) AS INTEGER)                 AS agency_count
    FROM fact_file_occurrence AS o
    SEMI JOIN touched USING (cluster_id)
    GROUP BY o.cluster_id
),
hashes AS (
    SELECT cluster_id, md5, sha1, pdq FROM media_cluster WHERE cluster_id IN (SELECT cluster_id FROM touched)
    UNION ALL
    SELECT cluster_id, min(cluster_md5), min(sha1), min(pdq) FROM batch_clustered WHERE is_new_cluster GROUP BY cluster_id
),
final AS (
    SELECT stats.cluster_id, hashes.md5, hashes.sha1, hashes.pdq,
           EXISTS (SELECT 1 FROM hash_set_entry AS h WHERE h.md5 = hashes.md5 OR h.sha1 = hashes.sha1) AS is_known,
           stats.first_seen_date, stats.first_seen_country, stats.first_seen_agency, stats.last_seen_date,
           stats.occurrences, stats.referral_count, stats.country_count, stats.agency_count
    FROM stats JOIN hashes USING (cluster_id)
)
SELECT * FROM final ORDER BY cluster_id
