-- Platforms present in the referral rollup, for the platform filter.
WITH present AS (
    SELECT DISTINCT platform_name
    FROM rollup_referral_daily
),

final AS (
    SELECT platform_name
    FROM present
)

SELECT platform_name
FROM final
ORDER BY lower(platform_name), platform_name
