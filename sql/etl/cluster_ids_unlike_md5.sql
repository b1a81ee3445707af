-- Media clusters with an MD5 whose id is not that MD5 as a 128-bit number, the id the ETL creates a cluster
-- with and looks a batch's MD5s up by (clusters_by_md5.sql). Such a cluster would not be found again by its
-- MD5: a later file with it would start a second cluster.
SELECT count(*) FROM media_cluster
WHERE md5 IS NOT NULL AND cluster_id IS DISTINCT FROM TRY_CAST('0x' || md5 AS UHUGEINT)
