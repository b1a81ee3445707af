-- The warehouse's indexed PDQ hashes with slots in [$low, $high), in slot order: what the near-duplicate
-- index beside the warehouse is rebuilt or caught up from (matching/cluster_index.py).
SELECT pm.pdq_slot, mc.pdq
FROM perceptual_member AS pm
JOIN media_cluster AS mc USING (cluster_id)
WHERE pm.pdq_slot >= $low AND pm.pdq_slot < $high
ORDER BY pm.pdq_slot
