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

-- @include scored_referrals

final AS (
    SELECT
        CAST(q.referral_key AS VARCHAR) AS referral_key,
        left(lpad(lower(hex(q.referral_key)), 32, '0'), 10) AS short_id,
        q.* EXCLUDE (referral_key)
    FROM params AS p
    JOIN scored AS q ON q.referral_key = p.referral_key
    WHERE p.any_scope
       OR ((p.scope_countries IS NULL OR list_contains(p.scope_countries, q.country_iso3))
           AND (p.scope_agencies IS NULL OR list_contains(p.scope_agencies, q.agency_code)))
)

SELECT *
FROM final
