-- Per cluster, what this batch adds: its hashes (as first seen: the earliest occurrence that
-- has each), occurrences, referrals, date range and the batch's first sighting: the
-- earliest occurrence by (date, referral key, ordinal), i.e. the lowest rowid of the sorted
-- batch_clustered. It is the cluster's first sighting overall when the cluster is new or was
-- seen earlier than recorded; then `first_rowid` names that row and first_country/first_agency
-- say where it was. The old_* columns are the cluster's media_cluster row before this batch
-- (NULL for a new cluster): what mart_cluster_reach counted it as; old_row_id its row id, by which
-- update_media_clusters.sql changes it. Those rows are looked up only for the clusters seen again: when
-- the batch has none, the look-up's list is empty and DuckDB does not read media_cluster at all.
WITH per_cluster AS (
    SELECT cluster_id,
           bool_or(is_new_cluster)                         AS is_new_cluster,
           arg_min(cluster_md5, rowid) AS md5, arg_min(sha1, rowid) AS sha1, arg_min(pdq, rowid) AS pdq,
           min(incident_date)                              AS first_date,
           max(incident_date)                              AS last_date,
           count(*)                                        AS occurrences,
           count(DISTINCT referral_key)                    AS referrals,
           min(rowid)                                      AS first_row,
           arg_min(country_iso3, rowid)                    AS first_row_country,
           arg_min(agency_code, rowid)                     AS first_row_agency
    FROM batch_clustered
    GROUP BY cluster_id
),
seen_again AS (
    SELECT cluster_id, first_seen_date, first_seen_country, country_count, rowid AS row_id
    FROM media_cluster
    WHERE cluster_id IN (SELECT cluster_id FROM per_cluster WHERE NOT is_new_cluster)
),
final AS (
    SELECT p.* EXCLUDE (first_row, first_row_country, first_row_agency),
           p.is_new_cluster OR p.first_date < m.first_seen_date AS moves_first,
           CASE WHEN p.is_new_cluster OR p.first_date < m.first_seen_date THEN p.first_row END         AS first_rowid,
           CASE WHEN p.is_new_cluster OR p.first_date < m.first_seen_date THEN p.first_row_country END AS first_country,
           CASE WHEN p.is_new_cluster OR p.first_date < m.first_seen_date THEN p.first_row_agency END  AS first_agency,
           m.first_seen_date AS old_first_seen_date,
           m.first_seen_country AS old_first_seen_country,
           m.country_count AS old_country_count,
           m.row_id AS old_row_id
    FROM per_cluster AS p
    LEFT JOIN seen_again AS m ON m.cluster_id = p.cluster_id
)
SELECT * FROM final
