-- Attach every file to load to a media cluster: an existing cluster with the same MD5 (or,
-- failing that, SHA1), else a new cluster whose id derives from the hash. A file without MD5
-- borrows the MD5 of another file in the batch with the same SHA1, so both land together.
WITH loading AS (
    SELECT f.*, r.incident_date, r.country_iso3, r.agency_code, r.platform_name
    FROM batch_files AS f
    JOIN batch_referrals AS r ON r.referral_key = f.referral_key AND r.is_new
    WHERE f.disposition = 'load'
),
sha1_to_md5 AS (
    SELECT sha1, min(md5) AS md5 FROM loading WHERE md5 IS NOT NULL AND sha1 IS NOT NULL GROUP BY sha1
),
keyed AS (
    SELECT loading.*, coalesce(loading.md5, s.md5) AS cluster_md5
    FROM loading LEFT JOIN sha1_to_md5 AS s ON loading.md5 IS NULL AND loading.sha1 = s.sha1
),
by_md5 AS (
    SELECT md5, min(cluster_id) AS cluster_id FROM media_cluster
    WHERE md5 IN (SELECT cluster_md5 FROM keyed) GROUP BY md5
),
by_sha1 AS (
    SELECT sha1, min(cluster_id) AS cluster_id FROM media_cluster
    WHERE sha1 IN (SELECT sha1 FROM keyed) GROUP BY sha1
),
final AS (
    SELECT keyed.*,
           coalesce(by_md5.cluster_id, by_sha1.cluster_id,
                    'mc-' || left(sha256(coalesce('md5:' || keyed.cluster_md5, 'sha1:' || keyed.sha1)), 24)) AS cluster_id,
           by_md5.cluster_id IS NULL AND by_sha1.cluster_id IS NULL AS is_new_cluster,
           row_number() OVER (PARTITION BY keyed.referral_key ORDER BY keyed._source_file, keyed._row) AS file_ordinal
    FROM keyed
    LEFT JOIN by_md5 ON by_md5.md5 = keyed.cluster_md5
    LEFT JOIN by_sha1 ON by_md5.cluster_id IS NULL AND by_sha1.sha1 = keyed.sha1
)
SELECT * FROM final
