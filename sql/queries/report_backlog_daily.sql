-- Referrals received and triaged per day of a report period, for the countries of its scope (empty list:
-- every country): the second path that checks the period's totals (`report_backlog_period`).
-- Parameters: $countries VARCHAR[], $start, $end DATE.
WITH params AS (
    SELECT CAST($countries AS VARCHAR[]) AS countries, CAST($start AS DATE) AS start_date, CAST($end AS DATE) AS end_date
),

final AS (
    SELECT b.date_key, sum(b.received) AS received, sum(b.triaged) AS triaged
    FROM rollup_backlog_daily AS b
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, b.country_iso3))
      AND b.date_key BETWEEN p.start_date AND p.end_date
    GROUP BY b.date_key
)

SELECT date_key, received, triaged
FROM final
ORDER BY date_key
