-- Every media cluster with a PDQ hash to match against a bank, for retro-matching: like the ETL, a PDQ below
-- the quality cutoff (placed in a perceptual cluster without an index slot) is not matched; a cluster not
-- placed yet is. Ids as fixed-width hex text ('0x' + 32 digits; they cast back to UHUGEINT, and UHUGEINT has
-- no NumPy type): decimal text of a 128-bit integer is slow to make (~55 us a value), and this reads every
-- media cluster.
SELECT '0x' || lpad(hex(m.cluster_id), 32, '0') AS cluster_id, m.pdq
FROM media_cluster AS m
LEFT JOIN perceptual_member AS pm USING (cluster_id)
WHERE m.pdq IS NOT NULL AND (pm.cluster_id IS NULL OR pm.pdq_slot IS NOT NULL)
ORDER BY m.cluster_id
