-- Existing clusters for which this batch brings an earlier sighting (late records): their
-- old first sighting must be unflagged, and its date's rollups recomputed.
SELECT cluster_id, old_first_seen_date
FROM batch_cluster_stats
WHERE NOT is_new_cluster AND moves_first
