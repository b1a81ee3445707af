-- New (cluster, country, agency) pairs seen in this batch (every pair of a new cluster is new; a cluster
-- seen again has all its earlier pairs in `reach_before`).
WITH final AS (
    SELECT cluster_id, country_iso3, agency_code, first_seen_date FROM batch_reach WHERE is_new_cluster
    UNION ALL
    SELECT b.cluster_id, b.country_iso3, b.agency_code, b.first_seen_date
    FROM (SELECT * FROM batch_reach WHERE NOT is_new_cluster) AS b
    ANTI JOIN reach_before AS r USING (cluster_id, country_iso3, agency_code)
)
SELECT * FROM final
