-- Media clusters placed before without an indexed PDQ (none delivered yet, or one below the quality cutoff)
-- for which this batch brings a usable one: they are placed again with it. Such a cluster is always alone in
-- its perceptual cluster (nothing links to a hash that is not indexed), so nothing else moves.
WITH offered AS (
    SELECT cluster_id, arg_min(pdq, rowid) AS pdq, arg_min(pdq_quality, rowid) AS pdq_quality
    FROM batch_clustered
    WHERE NOT is_new_cluster AND pdq IS NOT NULL AND (pdq_quality IS NULL OR pdq_quality >= $min_quality)
    GROUP BY cluster_id
),
final AS (
    SELECT o.cluster_id, o.pdq, o.pdq_quality, m.first_seen_date
    FROM offered AS o
    JOIN perceptual_member AS pm USING (cluster_id)
    JOIN perceptual_cluster AS pc ON pc.perceptual_id = pm.perceptual_id
    JOIN media_cluster AS m USING (cluster_id)
    WHERE pm.pdq_slot IS NULL AND pm.perceptual_id = pm.cluster_id AND pc.variants = 1
)
SELECT * FROM final ORDER BY cluster_id
