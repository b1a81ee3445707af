-- The hub's referral rollup from every merged release: per month (dated on its first day) × country ×
-- platform, the sum of the noisy counts the agencies showed. A suppressed cell adds nothing and is not a
-- zero: a country × platform × month whose every cell was suppressed has no row at all. The releases carry
-- no channel, incident type or annotation ('unspecified', false) and no other measure: those columns are 0
-- and a monthly warehouse offers only the released metrics (warehouse/grain.py).
WITH shown AS (
    SELECT month, country_iso3, platform_name, referrals
    FROM dp_release_cell
    WHERE NOT suppressed
),
final AS (
    SELECT month AS date_key, country_iso3, platform_name, sum(referrals)::BIGINT AS referrals
    FROM shown
    GROUP BY ALL
)
INSERT INTO rollup_referral_daily
SELECT date_key, country_iso3, platform_name, 'unspecified', 'unspecified', false, false, false,
       referrals, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
FROM final
ORDER BY date_key, country_iso3, platform_name
