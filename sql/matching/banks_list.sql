-- Every bank with its entry counts (all, enabled, with an MD5, SHA1, PDQ) and its match counts.
WITH counts AS (
    SELECT bank_name, count(*) AS entries, count(*) FILTER (WHERE is_enabled) AS enabled_entries,
           count(md5) AS md5_entries, count(sha1) AS sha1_entries, count(pdq) AS pdq_entries
    FROM hash_bank_entry GROUP BY bank_name
),
matched AS (
    SELECT bank_name, count(DISTINCT cluster_id) AS matched_clusters FROM bank_match GROUP BY bank_name
),
final AS (
    SELECT b.bank_name, b.is_negative, b.scheme, b.version, b.source, b.pdq_threshold,
           coalesce(c.entries, 0) AS entries, coalesce(c.enabled_entries, 0) AS enabled_entries,
           coalesce(c.md5_entries, 0) AS md5_entries, coalesce(c.sha1_entries, 0) AS sha1_entries,
           coalesce(c.pdq_entries, 0) AS pdq_entries, coalesce(m.matched_clusters, 0) AS matched_clusters,
           b.created_at, b.updated_at
    FROM hash_bank AS b LEFT JOIN counts AS c USING (bank_name) LEFT JOIN matched AS m USING (bank_name)
)
SELECT * FROM final ORDER BY bank_name
