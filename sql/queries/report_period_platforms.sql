-- A report period's referrals per platform (by incident date) for the countries of its scope (empty
-- list: every country): the platform mix of the period, largest first.
-- Parameters: $countries VARCHAR[], $start, $end DATE.
WITH params AS (
    SELECT CAST($countries AS VARCHAR[]) AS countries, CAST($start AS DATE) AS start_date, CAST($end AS DATE) AS end_date
),

rollup_choice AS (
    SELECT 'month' AS coarse
),

-- @include period_rows referral

final AS (
    SELECT r.platform_name AS platform, CAST(sum(r.referrals) AS BIGINT) AS referrals
    FROM referral_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
    GROUP BY r.platform_name
)

SELECT platform, referrals
FROM final
ORDER BY referrals DESC, platform
