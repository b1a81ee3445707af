-- Apply a batch's change per cell (`mart_reach_delta`, from mart_cluster_reach.sql) to
-- mart_cluster_reach: add it to the cell, drop a cell that reaches 0, insert a cell not there yet.
MERGE INTO mart_cluster_reach AS m
USING mart_reach_delta AS d
ON m.first_seen_date = d.first_seen_date
   AND m.first_seen_country = d.first_seen_country
   AND m.countries_bucket = d.countries_bucket
   AND m.days_bucket IS NOT DISTINCT FROM d.days_bucket
WHEN MATCHED AND m.clusters + d.clusters = 0 THEN DELETE
WHEN MATCHED THEN UPDATE SET clusters = m.clusters + d.clusters
WHEN NOT MATCHED THEN INSERT (first_seen_date, first_seen_country, countries_bucket, days_bucket, clusters)
    VALUES (d.first_seen_date, d.first_seen_country, d.countries_bucket, d.days_bucket, d.clusters)
