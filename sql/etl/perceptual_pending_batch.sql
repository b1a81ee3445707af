-- The media clusters this batch creates, to be placed in perceptual clusters: the PDQ of their first
-- occurrence that has one, with that occurrence's quality score, and their first-seen date (what
-- orders them: slots and the choice of the oldest member follow (first_seen_date, cluster_id)); and the
-- older clusters reopened because this batch brings their first usable PDQ (`perceptual_reopened`).
WITH hashed AS (
    SELECT cluster_id, arg_min(pdq, rowid) AS pdq, arg_min(pdq_quality, rowid) AS pdq_quality
    FROM batch_clustered
    WHERE is_new_cluster AND pdq IS NOT NULL
    GROUP BY cluster_id
),
final AS (
    SELECT s.cluster_id, h.pdq, h.pdq_quality, s.first_date AS first_seen_date
    FROM batch_cluster_stats AS s
    LEFT JOIN hashed AS h USING (cluster_id)
    WHERE s.is_new_cluster
    UNION ALL
    SELECT cluster_id, pdq, pdq_quality, first_seen_date FROM perceptual_reopened
)
SELECT '0x' || lpad(hex(cluster_id), 32, '0') AS cluster_key, pdq, pdq_quality, first_seen_date
FROM final
ORDER BY first_seen_date, cluster_id
