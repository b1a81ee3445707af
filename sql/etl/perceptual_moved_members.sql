-- The media clusters whose first sighting this batch moved earlier (late records), with the perceptual
-- cluster each belongs to after the batch's merges: their perceptual clusters are recomputed.
SELECT cluster_id, perceptual_id
FROM perceptual_member
WHERE cluster_id IN (SELECT cluster_id FROM moved_first)
