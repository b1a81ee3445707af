-- The referral backlog around a report period, for the countries of its scope (empty list: every
-- country): referrals received and triaged in the period (by receipt / triage date) and the backlog
-- (received minus triaged since the first day of data) at the end of the period and of the one before.
-- Parameters: $countries VARCHAR[], $start, $end, $previous_end DATE.
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date,
        CAST($previous_end AS DATE) AS previous_end
),

selected AS (
    SELECT b.date_key, b.received, b.triaged
    FROM rollup_backlog_daily AS b
    CROSS JOIN params AS p
    WHERE len(p.countries) = 0 OR list_contains(p.countries, b.country_iso3)
),

final AS (
    SELECT
        CAST(coalesce(sum(s.received) FILTER (WHERE s.date_key BETWEEN p.start_date AND p.end_date), 0) AS BIGINT)
            AS received,
        CAST(coalesce(sum(s.triaged) FILTER (WHERE s.date_key BETWEEN p.start_date AND p.end_date), 0) AS BIGINT)
            AS triaged,
        CAST(coalesce(sum(s.received - s.triaged) FILTER (WHERE s.date_key <= p.end_date), 0) AS BIGINT)
            AS backlog_end,
        CAST(coalesce(sum(s.received - s.triaged) FILTER (WHERE s.date_key <= p.previous_end), 0) AS BIGINT)
            AS backlog_previous_end
    FROM params AS p
    LEFT JOIN selected AS s ON true
    GROUP BY p.start_date, p.end_date, p.previous_end
)

SELECT received, triaged, backlog_end, backlog_previous_end
FROM final
