-- Weekly (ISO, Monday start) or monthly rows of the daily file rollup, for the periods of $grain listed
-- in temp table period_rollup_todo (grain, period_start); `date_key` is the period's first day. Every
-- column of rollup_file_daily, dimensions kept and counts summed.
WITH todo AS (
    SELECT period_start FROM period_rollup_todo WHERE grain = CAST($grain AS VARCHAR)
),
final AS (
    SELECT CAST(date_trunc(CAST($grain AS VARCHAR), d.date_key) AS DATE) AS date_key,
           d.country_iso3, d.platform_name, d.category_code,
           d.is_viral, d.is_self_generated, d.is_generative_ai, d.is_live_streaming, d.is_known,
           sum(d.files)          AS files,
           sum(d.new_clusters)   AS new_clusters,
           sum(d.known_files)    AS known_files,
           sum(d.self_generated) AS self_generated,
           sum(d.generative_ai)  AS generative_ai,
           sum(d.viral)          AS viral,
           sum(d.live_streaming) AS live_streaming
    FROM rollup_file_daily AS d
    WHERE CAST(date_trunc(CAST($grain AS VARCHAR), d.date_key) AS DATE) IN (SELECT period_start FROM todo)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
