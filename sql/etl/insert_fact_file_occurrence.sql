-- File occurrences of the batch, in batch_clustered's (date, referral key, ordinal) order. The
-- first sighting of a cluster is the batch's earliest occurrence, unless the cluster was
-- already seen on an earlier or the same date (batch_cluster_stats.first_rowid is NULL then).
WITH final AS (
    SELECT c.referral_key, c.file_ordinal, $batch_id AS batch_id, c.cluster_id,
           c.incident_date, c.country_iso3, c.agency_code, c.platform_name, c.category_code,
           c.rowid IN (SELECT first_rowid FROM batch_cluster_stats WHERE first_rowid IS NOT NULL) AS is_first_sighting,
           c.is_viral, c.is_self_generated, c.is_generative_ai, c.is_live_streaming,
           c.is_publicly_available, c.is_viewed_by_esp, c.pdq_quality,
           c.classifier_category, c.classifier_confidence, c.classifier_model, c.classifier_version
    FROM batch_clustered AS c
)
SELECT * FROM final
