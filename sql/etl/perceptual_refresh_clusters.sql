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
first_rows AS (  -- one arg_min of the whole first row: a quarter of the key comparisons of four (no field is NULL)
    SELECT perceptual_id,
           min(incident_date) AS first_seen_date,
           arg_min({'country_iso3': country_iso3, 'platform_name': platform_name, 'referral_key': referral_key,
                    'file_ordinal': file_ordinal}, (incident_date, referral_key, file_ordinal)) AS first_row
    FROM firsts
    GROUP BY perceptual_id
),
final AS (
    SELECT f.perceptual_id,
           v.variants,
           f.first_seen_date,
           f.first_row.country_iso3  AS first_seen_country,
           f.first_row.platform_name AS first_seen_platform,
           f.first_row.referral_key  AS first_referral_key,
           f.first_row.file_ordinal  AS first_file_ordinal,
           $batch_id AS last_changed_batch
    FROM first_rows AS f
    JOIN (SELECT perceptual_id, count(*) AS variants FROM members GROUP BY perceptual_id) AS v USING (perceptual_id)
)
SELECT * FROM final ORDER BY perceptual_id
