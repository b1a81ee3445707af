-- Existing clusters with a SHA1 of the batch's files.
SELECT sha1, min(cluster_id) AS cluster_id FROM media_cluster
WHERE sha1 IN (SELECT sha1 FROM loadable_files)
GROUP BY sha1
