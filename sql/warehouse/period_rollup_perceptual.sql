-- Weekly (ISO, Monday start) or monthly rows of the daily perceptual rollup, for the periods of $grain
-- listed in temp table period_rollup_todo (grain, period_start); `date_key` is the period's first day.
-- Every column of rollup_perceptual_daily, dimensions kept and counts summed.
WITH todo AS (
    SELECT period_start FROM period_rollup_todo WHERE grain = CAST($grain AS VARCHAR)
),
final AS (
    SELECT CAST(date_trunc(CAST($grain AS VARCHAR), d.date_key) AS DATE) AS date_key,
           d.country_iso3, d.platform_name, d.category_code,
           sum(d.files)                   AS files,
           sum(d.new_items)               AS new_items,
           sum(d.new_variants)            AS new_variants,
           sum(d.new_exact_clusters)      AS new_exact_clusters,
           sum(d.cross_platform_reshares) AS cross_platform_reshares,
           sum(d.cross_country_reshares)  AS cross_country_reshares,
           sum(d.bank_matched_files)      AS bank_matched_files
    FROM rollup_perceptual_daily AS d
    WHERE CAST(date_trunc(CAST($grain AS VARCHAR), d.date_key) AS DATE) IN (SELECT period_start FROM todo)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
