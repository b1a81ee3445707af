-- The perceptual clusters listed in `affected_perceptual`, recomputed by an ETL batch from what changed
-- instead of from every member (etl/perceptual_refresh_clusters.sql, which reads every member row and every
-- first sighting among the facts): the same rows, as
--   * members join a perceptual cluster only by being placed (this batch's `perceptual_member` rows) or by a
--     merge (`merged_perceptual`: the merged clusters' rows before it), and leave it only when reopened (a
--     reopened cluster was alone in its own perceptual cluster: that row's count is replaced by its new
--     member row);
--   * a media cluster's first sighting only moves earlier, to a row of the batch that loads it; so a
--     cluster's first sighting is the earliest, by (date, referral key, ordinal), of its row before the batch
--     (`previous_perceptual`), the rows of the clusters merged into it, and the batch's first-sighting rows
--     of its members — the clusters it placed and those whose first sighting it moved (`moved_members`).
-- Older clusters it placed (reopened, or a backlog) are looked up among the facts: none in most batches, so
-- that read of every first sighting is then skipped. Every cluster named here is in `affected_perceptual`
-- (the placed members' and the merges' clusters, those of moved members, and `previous_perceptual` holds
-- only those and the reopened ones). Parameter: $batch_id.
WITH placed AS (
    SELECT cluster_id, perceptual_id FROM perceptual_member WHERE batch_id = $batch_id
),
kept AS (  -- the recomputed clusters that existed before, as they were (a reopened one's row is replaced)
    SELECT * FROM previous_perceptual WHERE perceptual_id NOT IN (SELECT cluster_id FROM perceptual_reopened)
),
merged AS (
    SELECT g.into_id AS perceptual_id, q.variants, q.first_seen_date, q.first_seen_country, q.first_seen_platform,
           q.first_referral_key, q.first_file_ordinal
    FROM merged_perceptual AS q
    JOIN perceptual_merge AS g ON g.merged_id = q.perceptual_id AND g.batch_id = $batch_id
),
variant_counts AS (
    SELECT perceptual_id, sum(variants) AS variants
    FROM (
        SELECT perceptual_id, variants FROM kept
        UNION ALL
        SELECT perceptual_id, variants FROM merged
        UNION ALL
        SELECT perceptual_id, count(*) FROM placed GROUP BY perceptual_id
    )
    GROUP BY perceptual_id
),
member_of AS (  -- members whose first sighting may be new: placed, or moved earlier by the batch
    SELECT cluster_id, perceptual_id FROM placed
    UNION
    SELECT cluster_id, perceptual_id FROM moved_members
),
older_placed AS (
    SELECT cluster_id FROM placed
    ANTI JOIN (SELECT cluster_id FROM batch_cluster_stats WHERE is_new_cluster) AS fresh USING (cluster_id)
),
first_sightings AS (  -- the batch's own, and those of the older clusters it placed
    SELECT cluster_id, incident_date, referral_key, file_ordinal, country_iso3, platform_name
    FROM fact_file_occurrence
    WHERE batch_id = $batch_id AND is_first_sighting
    UNION
    SELECT cluster_id, incident_date, referral_key, file_ordinal, country_iso3, platform_name
    FROM fact_file_occurrence
    WHERE is_first_sighting AND cluster_id IN (SELECT cluster_id FROM older_placed)
),
candidates AS (
    SELECT perceptual_id, first_seen_date AS incident_date, first_referral_key AS referral_key,
           first_file_ordinal AS file_ordinal, first_seen_country AS country_iso3, first_seen_platform AS platform_name
    FROM kept
    UNION ALL
    SELECT perceptual_id, first_seen_date, first_referral_key, first_file_ordinal, first_seen_country,
           first_seen_platform
    FROM merged
    UNION ALL
    SELECT m.perceptual_id, f.incident_date, f.referral_key, f.file_ordinal, f.country_iso3, f.platform_name
    FROM first_sightings AS f
    JOIN member_of AS m USING (cluster_id)
),
-- @include perceptual_cluster_rows candidates
final AS (
    SELECT * FROM perceptual_rows
)
SELECT * FROM final ORDER BY perceptual_id
