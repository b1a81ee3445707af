-- Write the is_known values computed by known_changes.sql (temp table `bank_known_changes`).
UPDATE media_cluster SET is_known = k.is_known
FROM bank_known_changes AS k
WHERE media_cluster.cluster_id = k.cluster_id
