-- Daily referral rollup for the affected dates (day x country x platform x channel x type).
WITH final AS (
    SELECT incident_date AS date_key, country_iso3, platform_name, channel, incident_type_code,
           count(*)                                                   AS referrals,
           count(*) FILTER (WHERE is_actionable)                      AS actionable,
           count(*) FILTER (WHERE is_escalated)                       AS escalated,
           sum(bundle_size)                                           AS bundled_incidents,
           count(*) FILTER (WHERE has_sextortion)                     AS with_sextortion,
           count(*) FILTER (WHERE has_solicitation)                   AS with_solicitation,
           sum(file_count)                                            AS files,
           count(triaged_date)                                        AS triaged,
           coalesce(sum(triaged_date - received_date), 0)             AS triage_days_sum
    FROM fact_referral
    WHERE incident_date IN (SELECT date_key FROM affected_dates)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
