-- Every media cluster without a perceptual cluster (a warehouse upgraded from schema 5, or after
-- `grace matching rebuild`): its PDQ as stored, the best quality score any of its occurrences carries,
-- and its first-seen date.
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
SELECT lpad(CAST(p.cluster_id AS VARCHAR), 39, '0') AS cluster_key, p.pdq, q.pdq_quality, p.first_seen_date
FROM pending AS p
LEFT JOIN quality AS q USING (cluster_id)
ORDER BY p.first_seen_date, p.cluster_id
