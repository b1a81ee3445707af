-- Where this batch sees each cluster: (cluster, country, agency) with the first day.
SELECT cluster_id, country_iso3, agency_code, min(incident_date) AS first_seen_date, bool_or(is_new_cluster) AS is_new_cluster
FROM batch_clustered
GROUP BY cluster_id, country_iso3, agency_code
