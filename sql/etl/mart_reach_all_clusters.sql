-- Every media cluster once, as mart_cluster_reach counts it (see mart_cluster_reach.sql): for filling
-- the mart whole.
SELECT m.first_seen_date, m.first_seen_country, m.country_count, s.reached_date, 1 AS sign
FROM media_cluster AS m
LEFT JOIN cluster_spread AS s ON s.cluster_id = m.cluster_id
