-- The perceptual rollup's rows (day x country x platform x category) of the file occurrences in the host's
-- CTE `{rollup}` (columns of fact_file_occurrence), one definition for recomputing whole days
-- (etl/rollup_perceptual_daily.sql) and single cells (etl/rollup_perceptual_cells.sql). A file is its
-- perceptual cluster's first sighting (new material, measured perceptually) when it is the occurrence
-- perceptual_cluster names; a first sighting of its exact cluster that is not is a new variant of material
-- seen before. Re-shares are the other files, counted when their platform (country) differs from where the
-- perceptual cluster was first seen. Bank matches: the file's media cluster has an active match to a
-- positive bank (the host includes sql/fragments/active_bank_matches.sql first). Include with
-- `-- @include perceptual_rollup_rows <cte>` in a WITH: a CTE named `perceptual_rows` followed by a comma.
banked AS (
    SELECT DISTINCT cluster_id FROM active_bank_matches
),
perceptual_files AS (
    SELECT o.incident_date, o.country_iso3, o.platform_name, o.category_code, o.is_first_sighting,
           o.referral_key = pc.first_referral_key AND o.file_ordinal = pc.first_file_ordinal AS is_new_item,
           pc.first_seen_platform, pc.first_seen_country,
           b.cluster_id IS NOT NULL AS is_bank_matched
    FROM {rollup} AS o
    JOIN perceptual_member AS pm USING (cluster_id)
    JOIN perceptual_cluster AS pc USING (perceptual_id)
    LEFT JOIN banked AS b ON b.cluster_id = o.cluster_id
),
perceptual_rows AS (
    SELECT incident_date AS date_key, country_iso3, platform_name, category_code,
           count(*)                                                                      AS files,
           count(*) FILTER (WHERE is_new_item)                                           AS new_items,
           count(*) FILTER (WHERE is_first_sighting AND NOT is_new_item)                 AS new_variants,
           count(*) FILTER (WHERE is_first_sighting)                                     AS new_exact_clusters,
           count(*) FILTER (WHERE NOT is_new_item AND platform_name <> first_seen_platform) AS cross_platform_reshares,
           count(*) FILTER (WHERE NOT is_new_item AND country_iso3 <> first_seen_country)   AS cross_country_reshares,
           count(*) FILTER (WHERE is_bank_matched)                                       AS bank_matched_files
    FROM perceptual_files
    GROUP BY ALL
),
