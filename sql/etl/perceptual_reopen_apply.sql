-- The reopened clusters (`perceptual_reopened`) take the PDQ they are matched with (media_cluster.pdq is
-- the hash the index holds for a cluster) and leave their old one-member perceptual cluster.
UPDATE media_cluster AS m SET pdq = r.pdq FROM perceptual_reopened AS r WHERE m.cluster_id = r.cluster_id;
DELETE FROM perceptual_cluster WHERE perceptual_id IN (SELECT cluster_id FROM perceptual_reopened);
DELETE FROM perceptual_member WHERE cluster_id IN (SELECT cluster_id FROM perceptual_reopened);
