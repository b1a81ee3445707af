-- The media clusters this batch placed (new ones, or older ones never placed), with the hashes to match
-- against the hash banks: MD5, SHA1 and the PDQ when it is indexed (a PDQ below the quality cutoff is not
-- matched, as in the perceptual clusters).
SELECT '0x' || lpad(hex(m.cluster_id), 32, '0') AS cluster_id, m.md5, m.sha1,
       CASE WHEN pm.pdq_slot IS NOT NULL THEN m.pdq END AS pdq
FROM media_cluster AS m
JOIN perceptual_member AS pm USING (cluster_id)
WHERE pm.batch_id = $batch_id
ORDER BY pm.pdq_slot NULLS LAST, m.cluster_id
