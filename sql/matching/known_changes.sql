-- Media clusters among `bank_touched_clusters` whose is_known must flip: known = listed in a legacy
-- hash set (hash_set_entry, as sql/etl/refresh_known_clusters.sql) OR an active positive bank match
-- (`bank_active_now`, from active_bank_matches.sql). One row per cluster to change, with its new value.
WITH final AS (
    SELECT c.cluster_id,
           coalesce(c.md5 IN (SELECT md5 FROM hash_set_entry WHERE md5 IS NOT NULL), false)
               OR coalesce(c.sha1 IN (SELECT sha1 FROM hash_set_entry WHERE sha1 IS NOT NULL), false)
               OR c.cluster_id IN (SELECT cluster_id FROM bank_active_now) AS is_known
    FROM media_cluster AS c
    WHERE c.cluster_id IN (SELECT cluster_id FROM bank_touched_clusters)
)
SELECT final.* FROM final JOIN media_cluster AS c USING (cluster_id) WHERE final.is_known <> c.is_known
