-- Late records: a known (cluster, country, agency) pair seen earlier than recorded.
UPDATE cluster_reach SET first_seen_date = b.first_seen_date
FROM (SELECT * FROM batch_reach WHERE NOT is_new_cluster) AS b
WHERE cluster_reach.cluster_id = b.cluster_id AND cluster_reach.country_iso3 = b.country_iso3
  AND cluster_reach.agency_code = b.agency_code AND b.first_seen_date < cluster_reach.first_seen_date
