-- Existing clusters with an MD5 (their own or borrowed) or a SHA1 of the batch's files: the rows both
-- look-ups (clusters_by_md5.sql, clusters_by_sha1.sql) choose from, found in one read of media_cluster
-- (which a join with the batch's hashes reads whole: one read instead of two halves the time at 100 M).
SELECT md5, sha1, cluster_id FROM media_cluster
WHERE md5 IN (SELECT md5 FROM loadable_files UNION ALL SELECT md5 FROM borrowed_md5)
   OR sha1 IN (SELECT sha1 FROM loadable_files)
