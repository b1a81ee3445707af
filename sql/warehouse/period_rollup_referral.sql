-- Weekly (ISO, Monday start) or monthly rows of the daily referral rollup, for the periods of $grain
-- listed in temp table period_rollup_todo (grain, period_start); `date_key` is the period's first day.
-- Every column of rollup_referral_daily, dimensions kept and counts summed, so a reader can take whole
-- periods from here and the days of partly selected periods from the daily rollup (sql/fragments/referral_rows.sql).
WITH todo AS (
    SELECT period_start FROM period_rollup_todo WHERE grain = CAST($grain AS VARCHAR)
),
final AS (
    SELECT CAST(date_trunc(CAST($grain AS VARCHAR), d.date_key) AS DATE) AS date_key,
           d.country_iso3, d.platform_name, d.channel, d.incident_type_code,
           d.has_sextortion, d.has_solicitation, d.has_minor_to_minor,
           sum(d.referrals)           AS referrals,
           sum(d.actionable)          AS actionable,
           sum(d.escalated)           AS escalated,
           sum(d.bundled_incidents)   AS bundled_incidents,
           sum(d.with_sextortion)     AS with_sextortion,
           sum(d.with_solicitation)   AS with_solicitation,
           sum(d.files)               AS files,
           sum(d.triaged)             AS triaged,
           sum(d.triage_days_sum)     AS triage_days_sum,
           sum(d.with_minor_to_minor) AS with_minor_to_minor,
           sum(d.with_account)        AS with_account,
           sum(d.new_accounts)        AS new_accounts,
           sum(d.repeat_reports)      AS repeat_reports
    FROM rollup_referral_daily AS d
    WHERE CAST(date_trunc(CAST($grain AS VARCHAR), d.date_key) AS DATE) IN (SELECT period_start FROM todo)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
