-- Agencies with scored referrals in the reader's scope ($scope_countries, $scope_agencies VARCHAR[], NULL = no
-- limit), for the triage page's agency filter.
WITH final AS (
    SELECT DISTINCT r.agency_code, r.country_iso3
    FROM fact_referral AS r
    JOIN triage_score AS s ON s.referral_key = r.referral_key AND s.is_current
    WHERE (CAST($scope_countries AS VARCHAR[]) IS NULL
           OR list_contains(CAST($scope_countries AS VARCHAR[]), r.country_iso3))
      AND (CAST($scope_agencies AS VARCHAR[]) IS NULL
           OR list_contains(CAST($scope_agencies AS VARCHAR[]), r.agency_code))
)

SELECT agency_code, country_iso3
FROM final
ORDER BY agency_code
