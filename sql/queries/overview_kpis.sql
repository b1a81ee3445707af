-- Overview KPI totals for a selection of countries and platforms.
-- Parameters: $countries VARCHAR[], $platforms VARCHAR[] (empty list = no filter).
-- Reads rollups and small tables only, never the fact tables.
--   referrals, files     : sums of the monthly rollups (every month whole) within the selection
--   media_clusters       : every distinct media cluster in the warehouse
--   clusters_first_seen  : clusters whose first sighting falls within the selection
--   quarantined_records  : referral and file records quarantined by all ETL batches
--                          (quarantine has no country or platform, so it is never filtered)
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms
),

referral_totals AS (
    SELECT coalesce(sum(r.referrals), 0) AS referrals
    FROM rollup_referral_monthly AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
),

file_totals AS (
    SELECT
        coalesce(sum(f.files), 0) AS files,
        coalesce(sum(f.new_clusters), 0) AS clusters_first_seen
    FROM rollup_file_monthly AS f
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, f.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, f.platform_name))
),

cluster_totals AS (
    SELECT count(*) AS media_clusters
    FROM media_cluster
),

quarantine_totals AS (
    SELECT coalesce(sum(b.referrals_quarantined + b.files_quarantined), 0) AS quarantined_records
    FROM etl_batch AS b
),

final AS (
    SELECT
        CAST(referral_totals.referrals AS BIGINT) AS referrals,
        CAST(file_totals.files AS BIGINT) AS files,
        CAST(cluster_totals.media_clusters AS BIGINT) AS media_clusters,
        CAST(file_totals.clusters_first_seen AS BIGINT) AS clusters_first_seen,
        CAST(quarantine_totals.quarantined_records AS BIGINT) AS quarantined_records
    FROM referral_totals
    CROSS JOIN file_totals
    CROSS JOIN cluster_totals
    CROSS JOIN quarantine_totals
)

SELECT referrals, files, media_clusters, clusters_first_seen, quarantined_records
FROM final
