-- Platform mix over time: referrals per period and platform, and each platform's share of the period.
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter),
--             $start, $end VARCHAR ISO dates or NULL (inclusive; NULL = open),
--             $grain VARCHAR ('week' | 'month' | 'quarter' | 'year'),
--             $top INTEGER (the $top largest platforms of the selection keep their name; the
--             rest are summed into 'Other platforms', so the stack stays readable).
-- Every period of the selected range is present for every platform shown (zero-filled), so the
-- stacked shares of a period always add up to 1 when the period has any referral.
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date,
        CAST($grain AS VARCHAR) AS grain,
        CAST($top AS INTEGER) AS top_n
),

rollup_choice AS (
    SELECT CASE p.grain WHEN 'week' THEN 'week' WHEN 'day' THEN 'day' ELSE 'month' END AS coarse
    FROM params AS p
),

-- @include period_rows referral

per_platform AS (
    SELECT
        CAST(date_trunc(p.grain, r.date_key) AS DATE) AS period,
        r.platform_name,
        sum(r.referrals) AS referrals
    FROM referral_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY 1, 2
),

ranked AS (
    SELECT
        platform_name,
        row_number() OVER (ORDER BY sum(referrals) DESC, platform_name) AS platform_rank
    FROM per_platform
    GROUP BY platform_name
),

labelled AS (
    SELECT
        s.period,
        CASE WHEN k.platform_rank <= p.top_n THEN s.platform_name ELSE 'Other platforms' END AS platform,
        CASE WHEN k.platform_rank <= p.top_n THEN k.platform_rank ELSE p.top_n + 1 END AS platform_rank,
        s.referrals
    FROM per_platform AS s
    JOIN ranked AS k ON k.platform_name = s.platform_name
    CROSS JOIN params AS p
),

periods AS (
    SELECT DISTINCT period FROM labelled
),

platforms AS (
    SELECT DISTINCT platform, platform_rank FROM labelled
),

per_period AS (
    SELECT period, platform, sum(referrals) AS referrals
    FROM labelled
    GROUP BY period, platform
),

filled AS (
    SELECT
        d.period,
        t.platform,
        t.platform_rank,
        coalesce(c.referrals, 0) AS referrals
    FROM periods AS d
    CROSS JOIN platforms AS t
    LEFT JOIN per_period AS c ON c.period = d.period AND c.platform = t.platform
),

final AS (
    SELECT
        period,
        platform,
        CAST(platform_rank AS INTEGER) AS platform_rank,
        CAST(referrals AS BIGINT) AS referrals,
        CAST(sum(referrals) OVER (PARTITION BY period) AS BIGINT) AS period_referrals,
        CASE WHEN sum(referrals) OVER (PARTITION BY period) > 0
             THEN referrals / sum(referrals) OVER (PARTITION BY period) ELSE 0 END AS share
    FROM filled
)

SELECT period, platform, platform_rank, referrals, period_referrals, share
FROM final
ORDER BY platform_rank, period
