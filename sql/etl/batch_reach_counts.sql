-- Every cluster this batch saw, with the countries and agencies it has reached after the batch (the counts
-- media_cluster keeps: insert_new_media_clusters.sql, update_media_clusters.sql): its places before the
-- batch (`reach_before`; none for a new cluster) and the batch's (`batch_reach`).
SELECT cluster_id, CAST(count(DISTINCT country_iso3) AS INTEGER) AS country_count,
       CAST(count(DISTINCT agency_code) AS INTEGER) AS agency_count
FROM (
    SELECT cluster_id, country_iso3, agency_code FROM reach_before
    UNION ALL
    SELECT cluster_id, country_iso3, agency_code FROM batch_reach
)
GROUP BY cluster_id
