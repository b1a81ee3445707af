-- Perceptual clusters whose member had its first sighting moved earlier by this batch (late records).
INSERT INTO affected_perceptual
SELECT DISTINCT perceptual_id
FROM moved_members
WHERE perceptual_id NOT IN (SELECT perceptual_id FROM affected_perceptual)
