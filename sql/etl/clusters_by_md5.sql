-- Existing clusters with an MD5 of the batch's files (their own or borrowed), looked up by id: a cluster's id
-- is the hash it was created from as a 128-bit number (resolve_clusters.sql) and its MD5 that of the file it
-- was created from, so the cluster with MD5 m has the id m (`grace warehouse check` reports any other).
-- The join then reads media_cluster's 16-byte ids, which the batch's other look-ups read too, instead of
-- its 33-byte MD5 strings: at 100 M referrals that column is ~3 GB, more than stays cached.
WITH wanted AS (
    SELECT DISTINCT md5, ('0x' || md5)::UHUGEINT AS cluster_id
    FROM (SELECT md5 FROM loadable_files UNION ALL SELECT md5 FROM borrowed_md5)
    WHERE md5 IS NOT NULL
)
SELECT w.md5, min(m.cluster_id) AS cluster_id
FROM media_cluster AS m
JOIN wanted AS w USING (cluster_id)
GROUP BY w.md5
