-- The last day a report may treat as covered: the latest incident day of the rollup, or on a hub warehouse
-- of monthly releases `covered_until` (the last day of its latest month, whose counts are dated on the
-- month's first day), so the latest released month counts as whole. No parameters.
WITH
-- @include covered_until
latest AS (
    SELECT max(date_key) AS latest_day
    FROM rollup_referral_daily
),

final AS (
    SELECT CASE WHEN latest.latest_day IS NULL THEN NULL ELSE coalesce(covered.until, latest.latest_day) END AS latest_day
    FROM latest
    CROSS JOIN covered
)

SELECT latest_day
FROM final
