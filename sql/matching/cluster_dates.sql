-- The incident dates of the files of the clusters in `bank_dates_of` (whose rollup rows must be recomputed).
SELECT DISTINCT o.incident_date AS date_key
FROM fact_file_occurrence AS o
WHERE o.cluster_id IN (SELECT cluster_id FROM bank_dates_of)
