-- Referral flows per day for the affected flow dates: referrals received and referrals triaged
-- that day, by the referral rollup's dimensions (the backlog is their running difference).
WITH flows AS (
    SELECT received_date AS date_key, country_iso3, platform_name, channel, incident_type_code,
           has_sextortion, has_solicitation, has_minor_to_minor, 1 AS received, 0 AS triaged
    FROM fact_referral
    WHERE received_date IN (SELECT date_key FROM affected_flow_dates)
    UNION ALL
    SELECT triaged_date AS date_key, country_iso3, platform_name, channel, incident_type_code,
           has_sextortion, has_solicitation, has_minor_to_minor, 0 AS received, 1 AS triaged
    FROM fact_referral
    WHERE triaged_date IN (SELECT date_key FROM affected_flow_dates)
),
final AS (
    SELECT date_key, country_iso3, platform_name, channel, incident_type_code,
           has_sextortion, has_solicitation, has_minor_to_minor,
           CAST(sum(received) AS BIGINT) AS received, CAST(sum(triaged) AS BIGINT) AS triaged
    FROM flows
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
