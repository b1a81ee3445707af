-- The rows of the perceptual clusters to recompute (`affected_perceptual`) as they stand, with their row ids:
-- the batch's refresh starts from them, and they are then deleted by row id.
SELECT rowid AS row_id, * FROM perceptual_cluster
WHERE perceptual_id IN (SELECT perceptual_id FROM affected_perceptual)
