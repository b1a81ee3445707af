-- Existing clusters with an MD5 of the batch's files (their own or borrowed).
SELECT md5, min(cluster_id) AS cluster_id FROM media_cluster
WHERE md5 IN (SELECT md5 FROM loadable_files UNION ALL SELECT md5 FROM borrowed_md5)
GROUP BY md5
