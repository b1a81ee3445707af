-- Every media cluster with a PDQ hash (cluster_id as text: UHUGEINT has no NumPy type), for retro-matching.
SELECT CAST(cluster_id AS VARCHAR) AS cluster_id, pdq FROM media_cluster WHERE pdq IS NOT NULL ORDER BY cluster_id
