-- Monthly KPI series of the Overview for a selection: referrals, actionable referrals, files and
-- media clusters first seen, one row per calendar month of the period (zero-filled).
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter);
--             $start, $end DATE (NULL = from the first / to the latest day of the rollup).
-- `is_complete` is false for a month that the data or the period covers only in part, so the
-- period-over-period change compares whole months only. Reads the rollups only (whole months from the
-- monthly ones).
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date
),

-- @include covered_until

data_range AS (
    SELECT min(r.date_key) AS first_day, greatest(max(r.date_key), any_value(c.until)) AS last_day
    FROM rollup_referral_daily AS r
    CROSS JOIN covered AS c
),

bounds AS (
    SELECT
        greatest(d.first_day, coalesce(p.start_date, d.first_day)) AS first_day,
        least(d.last_day, coalesce(p.end_date, d.last_day)) AS last_day
    FROM data_range AS d
    CROSS JOIN params AS p
),

months AS (
    SELECT CAST(m.month AS DATE) AS month
    FROM bounds AS b,
        range(CAST(date_trunc('month', b.first_day) AS DATE), b.last_day + INTERVAL 1 DAY, INTERVAL 1 MONTH) AS m(month)
    WHERE b.first_day IS NOT NULL AND b.first_day <= b.last_day
),

rollup_choice AS (
    SELECT 'month' AS coarse
),

-- @include period_rows referral

-- @include period_rows file

-- Sum per day (or whole month) first, then months from the few rows (faster than truncating every row).
referral_days AS (
    SELECT r.date_key, sum(r.referrals) AS referrals, sum(r.actionable) AS actionable
    FROM referral_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY r.date_key
),

referral_months AS (
    SELECT CAST(date_trunc('month', date_key) AS DATE) AS month, sum(referrals) AS referrals,
           sum(actionable) AS actionable
    FROM referral_days
    GROUP BY 1
),

file_days AS (
    SELECT f.date_key, sum(f.files) AS files, sum(f.new_clusters) AS new_clusters
    FROM file_rows AS f
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, f.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, f.platform_name))
    GROUP BY f.date_key
),

file_months AS (
    SELECT CAST(date_trunc('month', date_key) AS DATE) AS month, sum(files) AS files,
           sum(new_clusters) AS new_clusters
    FROM file_days
    GROUP BY 1
),

final AS (
    SELECT
        m.month,
        CAST(coalesce(r.referrals, 0) AS BIGINT) AS referrals,
        CAST(coalesce(r.actionable, 0) AS BIGINT) AS actionable,
        CAST(coalesce(f.files, 0) AS BIGINT) AS files,
        CAST(coalesce(f.new_clusters, 0) AS BIGINT) AS new_clusters,
        (m.month >= b.first_day AND m.month + INTERVAL 1 MONTH - INTERVAL 1 DAY <= b.last_day) AS is_complete
    FROM months AS m
    CROSS JOIN bounds AS b
    LEFT JOIN referral_months AS r ON r.month = m.month
    LEFT JOIN file_months AS f ON f.month = m.month
)

SELECT month, referrals, actionable, files, new_clusters, is_complete
FROM final
ORDER BY month
