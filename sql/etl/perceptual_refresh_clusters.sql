-- The perceptual clusters listed in `affected_perceptual`, recomputed: their number of exact variants
-- and their first sighting, the earliest first sighting of any member by (date, referral key, ordinal).
WITH members AS (
    SELECT cluster_id, perceptual_id
    FROM perceptual_member
    WHERE perceptual_id IN (SELECT perceptual_id FROM affected_perceptual)
),
firsts AS (
    SELECT m.perceptual_id, o.incident_date, o.referral_key, o.file_ordinal, o.country_iso3, o.platform_name
    FROM fact_file_occurrence AS o
    JOIN members AS m USING (cluster_id)
    WHERE o.is_first_sighting
),
variant_counts AS (
    SELECT perceptual_id, count(*) AS variants FROM members GROUP BY perceptual_id
),
-- @include perceptual_cluster_rows firsts
final AS (
    SELECT * FROM perceptual_rows
)
SELECT * FROM final ORDER BY perceptual_id
