-- The cluster_reach rows of the clusters this batch sees again, as they stand before the batch, with their
-- row ids: read once, where four statements each read the whole table (cluster_reach has a row per
-- cluster and place; at 100 M referrals ~100 M rows). The batch's changes to them are made by row id
-- (update_cluster_reach_dates.sql), and its new pairs, reach counts and second countries are worked out
-- from these rows and the batch's own (insert_cluster_reach.sql, update_media_clusters.sql,
-- batch_cluster_spread.sql). A cluster new in the batch has no row here: its reach is all in batch_reach.
SELECT rowid AS row_id, cluster_id, country_iso3, agency_code, first_seen_date
FROM cluster_reach
WHERE cluster_id IN (SELECT cluster_id FROM batch_cluster_stats WHERE NOT is_new_cluster)
