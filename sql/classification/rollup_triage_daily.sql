-- Current tiers of the referrals received on the days a run touched (`run_keys`), by country and platform.
WITH final AS (
    SELECT r.received_date AS date_key, r.country_iso3, r.platform_name,
           count(*)                              AS scored,
           count(*) FILTER (WHERE s.tier = 'P1') AS p1,
           count(*) FILTER (WHERE s.tier = 'P2') AS p2,
           count(*) FILTER (WHERE s.tier = 'P3') AS p3,
           count(*) FILTER (WHERE s.tier = 'P4') AS p4
    FROM triage_score AS s
    JOIN fact_referral AS r USING (referral_key)
    WHERE s.is_current AND r.received_date IN (SELECT DISTINCT received_date FROM run_keys)
    GROUP BY ALL
)
SELECT * FROM final ORDER BY ALL
