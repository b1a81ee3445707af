-- Daily referral rollup for the affected dates (day x country x platform x channel x type x the
-- three referral annotation flags, so annotations can filter and split every referral metric).
-- Repeat reporting: a referral with an account pseudonym is its account's first report when it
-- is the account's row in account_first_report; every other one is a repeat report.
WITH first_reports AS (
    SELECT referral_key
    FROM account_first_report
    WHERE incident_date IN (SELECT date_key FROM affected_dates)
),
final AS (
    SELECT r.incident_date AS date_key, r.country_iso3, r.platform_name, r.channel, r.incident_type_code,
           r.has_sextortion, r.has_solicitation, r.has_minor_to_minor,
           count(*)                                                   AS referrals,
           count(*) FILTER (WHERE r.is_actionable)                    AS actionable,
           count(*) FILTER (WHERE r.is_escalated)                     AS escalated,
           sum(r.bundle_size)                                         AS bundled_incidents,
           count(*) FILTER (WHERE r.has_sextortion)                   AS with_sextortion,
           count(*) FILTER (WHERE r.has_solicitation)                 AS with_solicitation,
           sum(r.file_count)                                          AS files,
           count(r.triaged_date)                                      AS triaged,
           coalesce(sum(r.triaged_date - r.received_date), 0)         AS triage_days_sum,
           count(*) FILTER (WHERE r.has_minor_to_minor)               AS with_minor_to_minor,
           count(r.account_pseudonym)                                 AS with_account,
           count(f.referral_key)                                      AS new_accounts,
           count(r.account_pseudonym) - count(f.referral_key)         AS repeat_reports
    FROM fact_referral AS r
    LEFT JOIN first_reports AS f ON f.referral_key = r.referral_key
    WHERE r.incident_date IN (SELECT date_key FROM affected_dates)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
