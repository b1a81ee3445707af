-- Every file this batch loads, with its referral's date and place, its ordinal within the
-- referral (file order) and its media cluster: an existing cluster with the same MD5 (or,
-- failing that, SHA1), else a new cluster whose id is the hash itself as a 128-bit number
-- (the MD5, or the first 128 bits of the SHA1). The lookups are small tables, so the batch's
-- files are streamed past them once. Rows are stored sorted by (date, referral key, ordinal):
-- the order facts are loaded in, and `rowid` then ranks a cluster's occurrences.
WITH keyed AS (
    SELECT f.*, coalesce(f.md5, b.md5) AS cluster_md5,
           r.incident_date, r.country_iso3, r.agency_code, r.platform_name,
           CAST(CASE WHEN r.consecutive THEN f._pos - r.first_pos + f._item - r.first_item + 1
                     ELSE i.file_ordinal END AS INTEGER) AS file_ordinal
    FROM loadable_files AS f
    JOIN loading_referrals AS r USING (referral_key)
    LEFT JOIN irregular_ordinals AS i ON NOT r.consecutive AND i._pos = f._pos AND i._item = f._item
    LEFT JOIN borrowed_md5 AS b ON f.md5 IS NULL AND b.sha1 = f.sha1
),
final AS (
    SELECT keyed._pos,
           keyed.referral_key,
           keyed.file_ordinal,
           coalesce(m.cluster_id, s.cluster_id, ('0x' || coalesce(keyed.cluster_md5, left(keyed.sha1, 32)))::UHUGEINT) AS cluster_id,
           m.cluster_id IS NULL AND s.cluster_id IS NULL AS is_new_cluster,
           keyed.cluster_md5, keyed.sha1, keyed.pdq, keyed.pdq_quality,
           keyed.incident_date, keyed.country_iso3, keyed.agency_code, keyed.platform_name,
           keyed.category_code, keyed.is_viral, keyed.is_self_generated, keyed.is_generative_ai,
           keyed.is_live_streaming, keyed.is_publicly_available, keyed.is_viewed_by_esp,
           keyed.classifier_category, keyed.classifier_confidence, keyed.classifier_model, keyed.classifier_version
    FROM keyed
    LEFT JOIN clusters_by_md5 AS m ON m.md5 = keyed.cluster_md5
    LEFT JOIN clusters_by_sha1 AS s ON m.cluster_id IS NULL AND s.sha1 = keyed.sha1
)
SELECT * FROM final ORDER BY incident_date, referral_key, file_ordinal
