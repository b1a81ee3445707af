-- Daily file rollup for the affected dates (day x country x platform x category x the file
-- annotation flags, known material included, so annotations can filter and split file metrics).
-- Every file's media cluster is in media_cluster, so a file is known exactly when its cluster is among the
-- known ones: only those are looked up (a join with every cluster would probe all of them per batch).
WITH known AS (
    SELECT cluster_id FROM media_cluster WHERE is_known
),
files AS (
    SELECT o.*, k.cluster_id IS NOT NULL AS is_known
    FROM fact_file_occurrence AS o
    LEFT JOIN known AS k USING (cluster_id)
    WHERE o.incident_date IN (SELECT date_key FROM affected_dates)
),
final AS (
    SELECT o.incident_date AS date_key, o.country_iso3, o.platform_name, o.category_code,
           o.is_viral, o.is_self_generated, o.is_generative_ai, o.is_live_streaming, o.is_known,
           count(*)                                        AS files,
           count(*) FILTER (WHERE o.is_first_sighting)     AS new_clusters,
           count(*) FILTER (WHERE o.is_known)              AS known_files,
           count(*) FILTER (WHERE o.is_self_generated)     AS self_generated,
           count(*) FILTER (WHERE o.is_generative_ai)      AS generative_ai,
           count(*) FILTER (WHERE o.is_viral)              AS viral,
           count(*) FILTER (WHERE o.is_live_streaming)     AS live_streaming
    FROM files AS o
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
