-- Every media cluster without a perceptual cluster (a warehouse upgraded from schema 5, or after
-- `grace matching rebuild`): its PDQ as stored, its quality score, and its first-seen date. The score is
-- the one the cluster was placed with before (`previous_quality`, kept by a rebuild), so a rebuild places
-- each cluster as the batches did; a cluster never placed takes the best score of its occurrences.
WITH pending AS (
    SELECT cluster_id, pdq, first_seen_date
    FROM media_cluster
    ANTI JOIN perceptual_member USING (cluster_id)
),
quality AS (
    SELECT cluster_id, max(pdq_quality) AS pdq_quality
    FROM fact_file_occurrence
    WHERE cluster_id IN (SELECT cluster_id FROM pending WHERE pdq IS NOT NULL)
    GROUP BY cluster_id
)
SELECT '0x' || lpad(hex(p.cluster_id), 32, '0') AS cluster_key, p.pdq,
       CASE WHEN prev.cluster_id IS NOT NULL THEN prev.pdq_quality ELSE q.pdq_quality END AS pdq_quality,
       p.first_seen_date
FROM pending AS p
LEFT JOIN quality AS q USING (cluster_id)
LEFT JOIN previous_quality AS prev USING (cluster_id)
ORDER BY p.first_seen_date, p.cluster_id
