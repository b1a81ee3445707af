-- The media clusters this batch placed (new ones, or older ones never placed), with the hashes to match
-- against the hash banks: MD5, SHA1 and the PDQ when it is indexed (a PDQ below the quality cutoff is not
-- matched, as in the perceptual clusters). A new cluster's hashes are the batch's (`batch_cluster_stats`
-- is what etl/insert_new_media_clusters.sql wrote), so media_cluster — a scan of every cluster — is read only
-- for the older ones, which are rare (none in most batches: the scan is then skipped).
WITH placed AS (
    SELECT cluster_id, pdq_slot FROM perceptual_member WHERE batch_id = $batch_id
),
new_hashes AS (
    SELECT cluster_id, md5, sha1, pdq FROM batch_cluster_stats WHERE is_new_cluster
),
older_hashes AS (
    SELECT cluster_id, md5, sha1, pdq
    FROM media_cluster
    WHERE cluster_id IN (SELECT cluster_id FROM placed ANTI JOIN new_hashes USING (cluster_id))
),
final AS (
    SELECT '0x' || lpad(hex(h.cluster_id), 32, '0') AS cluster_id, h.md5, h.sha1,
           CASE WHEN p.pdq_slot IS NOT NULL THEN h.pdq END AS pdq, p.pdq_slot, h.cluster_id AS id
    FROM (SELECT * FROM new_hashes UNION ALL SELECT * FROM older_hashes) AS h
    JOIN placed AS p USING (cluster_id)
)
SELECT cluster_id, md5, sha1, pdq FROM final ORDER BY pdq_slot NULLS LAST, id
