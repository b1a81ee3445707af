-- File occurrences of the batch. The earliest occurrence of a cluster is its first sighting,
-- unless the cluster was already seen on an earlier or the same date.
WITH existing AS (
    SELECT cluster_id, first_seen_date FROM media_cluster
    WHERE cluster_id IN (SELECT cluster_id FROM batch_clustered)
),
ranked AS (
    SELECT c.*, row_number() OVER (PARTITION BY cluster_id ORDER BY incident_date, referral_key, file_ordinal) AS rank_in_batch
    FROM batch_clustered AS c
),
final AS (
    SELECT ranked.referral_key, CAST(ranked.file_ordinal AS INTEGER) AS file_ordinal, $batch_id AS batch_id, ranked.cluster_id,
           ranked.incident_date, ranked.country_iso3, ranked.agency_code, ranked.platform_name, ranked.category_code,
           ranked.rank_in_batch = 1 AND (existing.cluster_id IS NULL OR ranked.incident_date < existing.first_seen_date)
               AS is_first_sighting,
           is_viral, is_self_generated, is_generative_ai, is_live_streaming,
           is_publicly_available,
           is_viewed_by_esp
    FROM ranked
    LEFT JOIN existing USING (cluster_id)
)
SELECT * FROM final ORDER BY incident_date, referral_key, file_ordinal
