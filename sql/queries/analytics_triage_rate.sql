-- Referrals triaged and received (by triage / receipt date) between two days, from the backlog
-- rollup: the recent triage rate `grace analyse` uses as default analyst capacity.
-- Parameters: $first_day DATE, $last_day DATE (inclusive).
WITH params AS (
    SELECT CAST($first_day AS DATE) AS first_day, CAST($last_day AS DATE) AS last_day
),

final AS (
    SELECT
        CAST(coalesce(sum(b.triaged), 0) AS BIGINT) AS triaged,
        CAST(coalesce(sum(b.received), 0) AS BIGINT) AS received,
        date_diff('day', p.first_day, p.last_day) + 1 AS days
    FROM params AS p
    LEFT JOIN rollup_backlog_daily AS b ON b.date_key BETWEEN p.first_day AND p.last_day
    GROUP BY p.first_day, p.last_day
)

SELECT triaged, received, days
FROM final
