-- Recomputed `perceptual_cluster` rows, one definition for an ETL batch (etl/perceptual_refresh_batch.sql)
-- and a recompute from every member (etl/perceptual_refresh_clusters.sql): per perceptual cluster, its first
-- sighting, the earliest by (date, referral key, ordinal) of the rows in the host's CTE `{rollup}`
-- (perceptual_id, incident_date, referral_key, file_ordinal, country_iso3, platform_name), with the count
-- the host's CTE `variant_counts` (perceptual_id, variants) gives, stamped with $batch_id. Include with
-- `-- @include perceptual_cluster_rows <cte>` in a WITH: a CTE named `perceptual_rows` followed by a comma.
first_rows AS (  -- one arg_min of the whole first row: a quarter of the key comparisons of four (no field is NULL)
    SELECT perceptual_id,
           min(incident_date) AS first_seen_date,
           arg_min({'country_iso3': country_iso3, 'platform_name': platform_name, 'referral_key': referral_key,
                    'file_ordinal': file_ordinal}, (incident_date, referral_key, file_ordinal)) AS first_row
    FROM {rollup}
    GROUP BY perceptual_id
),
perceptual_rows AS (
    SELECT f.perceptual_id,
           v.variants,
           f.first_seen_date,
           f.first_row.country_iso3  AS first_seen_country,
           f.first_row.platform_name AS first_seen_platform,
           f.first_row.referral_key  AS first_referral_key,
           f.first_row.file_ordinal  AS first_file_ordinal,
           $batch_id AS last_changed_batch
    FROM first_rows AS f
    JOIN variant_counts AS v USING (perceptual_id)
),
