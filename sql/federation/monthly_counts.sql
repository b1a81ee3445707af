-- Referrals per country × platform received in one month: the true counts behind an agency's differentially
-- private release (federation/release.py). Each referral is in exactly one cell.
WITH month AS (
    SELECT country_iso3, platform_name, referrals
    FROM rollup_referral_daily
    WHERE date_key >= $month_start AND date_key < $month_end
),
final AS (
    SELECT country_iso3, platform_name, sum(referrals)::BIGINT AS referrals
    FROM month
    GROUP BY country_iso3, platform_name
)
SELECT * FROM final ORDER BY country_iso3, platform_name
