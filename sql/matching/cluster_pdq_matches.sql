-- `grace match`: the media clusters whose indexed PDQ lies within the radius of a query's (`pdq_found`:
-- query_index, slot, distance from the near-duplicate index), with their perceptual cluster, first
-- sighting, reach and occurrences. Ids as decimal text (UHUGEINT).
WITH final AS (
    SELECT f.query_index, 'pdq' AS match_kind, CAST(m.cluster_id AS VARCHAR) AS cluster_id,
           CAST(p.perceptual_id AS VARCHAR) AS perceptual_id, m.first_seen_date, m.country_count, m.occurrences,
           f.distance
    FROM pdq_found AS f
    JOIN perceptual_member AS p ON p.pdq_slot = f.slot
    JOIN media_cluster AS m ON m.cluster_id = p.cluster_id
)
SELECT * FROM final ORDER BY query_index, distance, cluster_id
