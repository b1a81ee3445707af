-- Cells (day, country, platform, category) of the perceptual rollup, outside the days recomputed whole
-- (`perceptual_dates`: the batch's own `affected_dates`), whose rows this batch can change. A rollup row
-- counts files, each read with its media cluster's perceptual cluster (member row), that perceptual
-- cluster's first sighting (perceptual_cluster) and its media cluster's active bank matches; the batch
-- changes those only for
--   * the media clusters it placed: new ones (whose files are all in the batch), older ones never placed,
--     and older ones reopened with their first usable PDQ, which change only when they joined another
--     perceptual cluster (alone, they keep their own id and first sighting) or got a bank match;
--   * the media clusters it matched to a hash bank (the matches it records are found_by the batch);
--   * the members of the perceptual clusters whose first sighting it changed (`previous_perceptual`
--     holds the recomputed clusters' rows as they were; none = created) or that another merged into.
-- The cells holding a file of one of those media clusters. Parameter: $batch_id.
-- The recomputed clusters are the rows stamped with $batch_id (a constant: DuckDB skips row groups by it).
-- Two whole-table reads are skipped when they cannot add a cell (then their look-up side is empty):
--   * a perceptual cluster the batch created has members the batch placed only (listed above), so only the
--     changed clusters that existed before (`previous_perceptual`) are looked up among every member row;
--   * a media cluster new in this batch has all its files in the batch, on the batch's own dates, which
--     are recomputed whole: only older media clusters are looked up among the facts.
WITH changed AS (
    SELECT c.perceptual_id
    FROM perceptual_cluster AS c
    LEFT JOIN previous_perceptual AS p USING (perceptual_id)
    WHERE c.last_changed_batch = $batch_id  -- the `affected_perceptual` rows, recomputed by this batch
      AND (p.perceptual_id IS NULL
           OR c.first_referral_key <> p.first_referral_key
           OR c.first_file_ordinal <> p.first_file_ordinal
           OR c.first_seen_platform <> p.first_seen_platform
           OR c.first_seen_country <> p.first_seen_country)
    UNION
    SELECT into_id FROM perceptual_merge WHERE batch_id = $batch_id
),
clusters AS (
    SELECT cluster_id
    FROM perceptual_member
    WHERE batch_id = $batch_id
      AND NOT (perceptual_id = cluster_id AND cluster_id IN (SELECT cluster_id FROM perceptual_reopened))
    UNION
    SELECT cluster_id FROM bank_match WHERE found_by = $batch_id
    UNION
    SELECT cluster_id
    FROM perceptual_member
    WHERE perceptual_id IN (SELECT perceptual_id FROM changed SEMI JOIN previous_perceptual USING (perceptual_id))
),
older_clusters AS (
    SELECT cluster_id FROM clusters
    ANTI JOIN (SELECT cluster_id FROM batch_cluster_stats WHERE is_new_cluster) AS fresh USING (cluster_id)
),
final AS (
    SELECT DISTINCT o.incident_date AS date_key, o.country_iso3, o.platform_name, o.category_code
    FROM fact_file_occurrence AS o
    WHERE o.cluster_id IN (SELECT cluster_id FROM older_clusters)
      AND o.incident_date NOT IN (SELECT date_key FROM perceptual_dates)
)
SELECT * FROM final
