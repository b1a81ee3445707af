-- Every media cluster with its hashes and where perceptual matching put it, for scoring the clustering
-- against known truth (matching/evaluation.py): ids as hexadecimal text (keys only; hex() is cheap where
-- a cast of a UHUGEINT to decimal text is not), hashes lower-case, the quality score the ETL used and
-- whether its PDQ was indexed (has a slot).
SELECT hex(mc.cluster_id)      AS cluster_key,
       lower(mc.md5)           AS md5,
       lower(mc.sha1)          AS sha1,
       lower(mc.pdq)           AS pdq,
       pm.pdq_quality,
       pm.pdq_slot IS NOT NULL AS indexed,
       hex(pm.perceptual_id)   AS perceptual_key
FROM media_cluster AS mc
LEFT JOIN perceptual_member AS pm USING (cluster_id)
ORDER BY mc.cluster_id
