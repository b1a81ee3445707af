-- Referrals with their current triage score (triage_score.is_current) and the scoring model: a CTE named
-- `scored` (referral_key, received_date, the referral's codes and status, tier, probability, priority_score,
-- rules_fired, contributions, run_id, model_version) followed by a comma. Named queries include it with the
-- line `-- @include scored_referrals` and apply the reader's scope themselves.
scored AS (
    SELECT
        r.referral_key,
        r.received_date,
        r.agency_code,
        r.country_iso3,
        r.platform_name,
        r.incident_type_code,
        r.status,
        s.tier,
        s.probability,
        s.priority_score,
        s.rules_fired,
        s.contributions,
        s.run_id,
        t.model_version
    FROM fact_referral AS r
    JOIN triage_score AS s ON s.referral_key = r.referral_key AND s.is_current
    JOIN triage_run AS t ON t.run_id = s.run_id
),
