-- The dates the clusters of `bank_known_changed` were seen on that `affected_dates` does not hold yet.
SELECT DISTINCT o.incident_date AS date_key
FROM fact_file_occurrence AS o
SEMI JOIN bank_known_changed AS c ON c.cluster_id = o.cluster_id
WHERE o.incident_date NOT IN (SELECT date_key FROM affected_dates)
