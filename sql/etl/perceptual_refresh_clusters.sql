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
final AS (
    SELECT f.perceptual_id,
           v.variants,
           min(f.incident_date)                                                     AS first_seen_date,
           arg_min(f.country_iso3, (f.incident_date, f.referral_key, f.file_ordinal)) AS first_seen_country,
           arg_min(f.platform_name, (f.incident_date, f.referral_key, f.file_ordinal)) AS first_seen_platform,
           arg_min(f.referral_key, (f.incident_date, f.referral_key, f.file_ordinal)) AS first_referral_key,
           arg_min(f.file_ordinal, (f.incident_date, f.referral_key, f.file_ordinal)) AS first_file_ordinal,
           $batch_id AS last_changed_batch
    FROM firsts AS f
    JOIN (SELECT perceptual_id, count(*) AS variants FROM members GROUP BY perceptual_id) AS v USING (perceptual_id)
    GROUP BY f.perceptual_id, v.variants
)
SELECT * FROM final ORDER BY perceptual_id
