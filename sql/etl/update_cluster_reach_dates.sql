-- Late records: a known (cluster, country, agency) pair seen earlier than recorded.
UPDATE cluster_reach SET first_seen_date = b.first_date
FROM (SELECT cluster_id, country_iso3, agency_code, min(incident_date) AS first_date FROM batch_clustered GROUP BY ALL) AS b
WHERE cluster_reach.cluster_id = b.cluster_id AND cluster_reach.country_iso3 = b.country_iso3
  AND cluster_reach.agency_code = b.agency_code AND b.first_date < cluster_reach.first_seen_date
