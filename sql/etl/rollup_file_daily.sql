-- Daily file rollup for the affected dates (day x country x platform x category x the file
-- annotation flags, known material included, so annotations can filter and split file metrics).
WITH final AS (
    SELECT o.incident_date AS date_key, o.country_iso3, o.platform_name, o.category_code,
           o.is_viral, o.is_self_generated, o.is_generative_ai, o.is_live_streaming, m.is_known,
           count(*)                                        AS files,
           count(*) FILTER (WHERE o.is_first_sighting)     AS new_clusters,
           count(*) FILTER (WHERE m.is_known)              AS known_files,
           count(*) FILTER (WHERE o.is_self_generated)     AS self_generated,
           count(*) FILTER (WHERE o.is_generative_ai)      AS generative_ai,
           count(*) FILTER (WHERE o.is_viral)              AS viral,
           count(*) FILTER (WHERE o.is_live_streaming)     AS live_streaming
    FROM fact_file_occurrence AS o
    JOIN media_cluster AS m USING (cluster_id)
    WHERE o.incident_date IN (SELECT date_key FROM affected_dates)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
