-- Perceptual clusters whose member had its first sighting moved earlier by this batch (late records).
INSERT INTO affected_perceptual
SELECT DISTINCT pm.perceptual_id
FROM perceptual_member AS pm
WHERE pm.cluster_id IN (SELECT cluster_id FROM moved_first)
  AND pm.perceptual_id NOT IN (SELECT perceptual_id FROM affected_perceptual)
