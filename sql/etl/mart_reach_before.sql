-- The clusters this batch saw that existed before it, as mart_cluster_reach counts them now: their
-- media_cluster values before the batch (kept on batch_cluster_stats) and their cluster_spread row,
-- read before the batch rewrites it. Sign -1: the batch takes them out of these cells.
SELECT s.old_first_seen_date AS first_seen_date, s.old_first_seen_country AS first_seen_country,
       s.old_country_count AS country_count, c.reached_date, -1 AS sign
FROM batch_cluster_stats AS s
LEFT JOIN cluster_spread AS c ON c.cluster_id = s.cluster_id
WHERE NOT s.is_new_cluster
