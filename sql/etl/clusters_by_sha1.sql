-- Existing clusters with a SHA1 of the batch's files, from `clusters_by_hash`.
SELECT sha1, min(cluster_id) AS cluster_id FROM clusters_by_hash
WHERE sha1 IN (SELECT sha1 FROM loadable_files)
GROUP BY sha1
