-- MD5 and SHA1 matches of media clusters against the enabled entries of bank $bank ($entry_id NULL:
-- every entry), by join: rows for `bank_found` (distance 0; the entry's category as found).
WITH entries AS (
    SELECT e.entry_id, e.md5, e.sha1, e.category, b.bank_name, b.version
    FROM hash_bank_entry AS e JOIN hash_bank AS b ON b.bank_name = e.bank_name
    WHERE e.bank_name = $bank AND e.is_enabled AND ($entry_id IS NULL OR e.entry_id = $entry_id)
),
final AS (
    SELECT c.cluster_id, e.bank_name, e.version AS bank_version, e.entry_id, 'md5' AS match_kind,
           CAST(0 AS SMALLINT) AS distance, e.category
    FROM entries AS e JOIN media_cluster AS c ON c.md5 = e.md5
    UNION ALL
    SELECT c.cluster_id, e.bank_name, e.version, e.entry_id, 'sha1', CAST(0 AS SMALLINT), e.category
    FROM entries AS e JOIN media_cluster AS c ON c.sha1 = e.sha1
)
SELECT * FROM final
