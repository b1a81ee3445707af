-- One referral's current score by its key ($referral_key, decimal text), only when it is in the reader's scope
-- ($scope_countries, $scope_agencies VARCHAR[], NULL = no limit): no row for a key that is absent, unscored or
-- outside the scope alike. $any_scope = true drops the scope (only to tell an out-of-scope key from an absent
-- one for the audit log; never shown).
WITH params AS (
    SELECT
        TRY_CAST($referral_key AS UHUGEINT) AS referral_key,
        CAST($scope_countries AS VARCHAR[]) AS scope_countries,
        CAST($scope_agencies AS VARCHAR[]) AS scope_agencies,
        CAST($any_scope AS BOOLEAN) AS any_scope
),

final AS (
    SELECT
        CAST(r.referral_key AS VARCHAR) AS referral_key,
        left(lpad(lower(hex(r.referral_key)), 32, '0'), 10) AS short_id,
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
    FROM params AS p
    JOIN fact_referral AS r ON r.referral_key = p.referral_key
    JOIN triage_score AS s ON s.referral_key = r.referral_key AND s.is_current
    JOIN triage_run AS t ON t.run_id = s.run_id
    WHERE p.any_scope
       OR ((p.scope_countries IS NULL OR list_contains(p.scope_countries, r.country_iso3))
           AND (p.scope_agencies IS NULL OR list_contains(p.scope_agencies, r.agency_code)))
)

SELECT *
FROM final
