-- Existing clusters for which this batch brings an earlier sighting (late records): their
-- old first sighting must be unflagged, and its date's rollups recomputed.
WITH batch_first AS (
    SELECT cluster_id, min(incident_date) AS first_date FROM batch_clustered WHERE NOT is_new_cluster GROUP BY cluster_id
),
final AS (
    SELECT m.cluster_id, m.first_seen_date AS old_first_seen_date
    FROM media_cluster AS m JOIN batch_first AS b USING (cluster_id)
    WHERE b.first_date < m.first_seen_date
)
SELECT * FROM final
