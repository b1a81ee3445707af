-- Late records: a known (cluster, country, agency) pair seen earlier than recorded (`reach_before` holds
-- the pairs of the clusters seen again, with their row ids).
UPDATE cluster_reach SET first_seen_date = b.first_seen_date
FROM reach_before AS r
JOIN (SELECT * FROM batch_reach WHERE NOT is_new_cluster) AS b USING (cluster_id, country_iso3, agency_code)
WHERE cluster_reach.rowid = r.row_id AND b.first_seen_date < r.first_seen_date
