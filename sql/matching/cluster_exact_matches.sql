-- `grace match`: the media clusters whose MD5 or SHA1 equals a query's (`match_queries`: query_index,
-- md5, sha1), with the perceptual cluster they belong to (if the perceptual step has placed them) and
-- their first sighting, reach and occurrences. Ids as decimal text (UHUGEINT).
WITH found AS (
    SELECT q.query_index, 'md5' AS match_kind, c.* FROM match_queries AS q JOIN media_cluster AS c ON c.md5 = q.md5
    UNION ALL
    SELECT q.query_index, 'sha1', c.* FROM match_queries AS q JOIN media_cluster AS c ON c.sha1 = q.sha1
),
final AS (
    SELECT f.query_index, f.match_kind, CAST(f.cluster_id AS VARCHAR) AS cluster_id,
           CAST(p.perceptual_id AS VARCHAR) AS perceptual_id, f.first_seen_date, f.country_count, f.occurrences
    FROM found AS f LEFT JOIN perceptual_member AS p ON p.cluster_id = f.cluster_id
)
SELECT * FROM final ORDER BY query_index, match_kind, cluster_id
