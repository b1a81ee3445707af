-- New (cluster, country, agency) pairs seen in this batch.
WITH batch_pairs AS (
    SELECT cluster_id, country_iso3, agency_code, min(incident_date) AS first_seen_date
    FROM batch_clustered
    GROUP BY ALL
),
final AS (
    SELECT b.* FROM batch_pairs AS b
    ANTI JOIN cluster_reach AS r USING (cluster_id, country_iso3, agency_code)
)
SELECT * FROM final ORDER BY cluster_id, country_iso3, agency_code
