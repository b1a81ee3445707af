-- Per cluster, what this batch adds: occurrences, referrals, date range and (when the batch
-- holds the cluster's first sighting) where it was first seen.
WITH occurrences AS (
    SELECT o.*, c.is_new_cluster, c.cluster_md5, c.sha1, c.pdq
    FROM batch_occurrences AS o
    JOIN batch_clustered AS c USING (referral_key, file_ordinal)
),
final AS (
    SELECT cluster_id,
           bool_or(is_new_cluster)                                        AS is_new_cluster,
           min(cluster_md5) AS md5, min(sha1) AS sha1, min(pdq) AS pdq,
           min(incident_date)                                             AS first_date,
           max(incident_date)                                             AS last_date,
           count(*)                                                       AS occurrences,
           count(DISTINCT referral_key)                                   AS referrals,
           any_value(country_iso3) FILTER (WHERE is_first_sighting)       AS first_country,
           any_value(agency_code) FILTER (WHERE is_first_sighting)        AS first_agency
    FROM occurrences
    GROUP BY cluster_id
)
SELECT * FROM final
