-- Every cluster this batch saw, new or not, as its media_cluster and cluster_spread rows stand after
-- the batch. Sign +1: the batch puts them into these cells.
SELECT m.first_seen_date, m.first_seen_country, m.country_count, c.reached_date, 1 AS sign
FROM media_cluster AS m
LEFT JOIN cluster_spread AS c ON c.cluster_id = m.cluster_id
WHERE m.cluster_id IN (SELECT cluster_id FROM batch_cluster_stats)
