-- Every cluster this batch saw, new or not, as its media_cluster and cluster_spread rows stand after the
-- batch, worked out from the batch's tables as update_media_clusters.sql and insert_new_media_clusters.sql
-- set them (a first sighting only moves earlier, to the batch's; `batch_reach_counts`) and as
-- `batch_cluster_spread` replaced them, so neither table is read whole. Sign +1: the batch puts them into
-- these cells.
SELECT least(coalesce(s.old_first_seen_date, s.first_date), s.first_date) AS first_seen_date,
       coalesce(s.first_country, s.old_first_seen_country) AS first_seen_country,
       n.country_count, c.reached_date, 1 AS sign
FROM batch_cluster_stats AS s
JOIN batch_reach_counts AS n USING (cluster_id)
LEFT JOIN batch_cluster_spread AS c USING (cluster_id)
