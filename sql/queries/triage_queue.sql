-- The triage queue: referrals with a current score (triage_score.is_current), ranked for review.
-- Parameters: $scope_countries, $scope_agencies VARCHAR[]: the reader's scope (grace.scope.Scope; NULL = no
--             limit); $agencies, $tiers, $statuses VARCHAR[]: filters (empty = all); $show VARCHAR: 'queue'
--             (everything matching), 'sample' (audit sample or uncertain only), 'audit', 'uncertain';
--             $salt VARCHAR, $sample_per_mille BIGINT, $sample_days BIGINT: the audit sample; $uncertain_n BIGINT;
--             $limit, $offset BIGINT: one page.
-- Review sample (so labels are not only the model's own choices, see dashboards/callbacks/triage.py):
--   audit sample = referrals received in the $sample_days days up to the newest received date in the
--   warehouse whose md5($salt:key as 32 lower-case hex digits) falls in the first $sample_per_mille of 1000 (a pure function of the key:
--   stable across reloads and users); uncertain = the $uncertain_n referrals with the highest p(1 - p)
--   (probability closest to 0.5), ties by key. Both are taken among the referrals in scope that match the
--   agency and status filters; they come first, then the rest by priority score.
-- Columns: referral_key (decimal text, the pseudonym), short_id (its first 10 hex digits), the referral's
-- metadata codes, its current score, the scoring run and model, the marks, and matching (rows before paging).
WITH params AS (
    SELECT
        CAST($scope_countries AS VARCHAR[]) AS scope_countries,
        CAST($scope_agencies AS VARCHAR[]) AS scope_agencies,
        CAST($agencies AS VARCHAR[]) AS agencies,
        CAST($tiers AS VARCHAR[]) AS tiers,
        CAST($statuses AS VARCHAR[]) AS statuses,
        CAST($show AS VARCHAR) AS show,
        CAST($salt AS VARCHAR) AS salt,
        CAST($sample_per_mille AS BIGINT) AS sample_per_mille,
        CAST($sample_days AS BIGINT) AS sample_days,
        CAST($uncertain_n AS BIGINT) AS uncertain_n
),

newest AS (
    SELECT max(received_date) AS newest_date
    FROM fact_referral
),

-- @include scored_referrals

in_scope AS (
    SELECT q.*
    FROM scored AS q
    CROSS JOIN params AS p
    WHERE (p.scope_countries IS NULL OR list_contains(p.scope_countries, q.country_iso3))
      AND (p.scope_agencies IS NULL OR list_contains(p.scope_agencies, q.agency_code))
      AND (len(p.agencies) = 0 OR list_contains(p.agencies, q.agency_code))
      AND (len(p.statuses) = 0 OR list_contains(p.statuses, q.status))
),

marked AS (
    SELECT
        q.*,
        q.received_date > n.newest_date - CAST(p.sample_days AS INTEGER)
            AND CAST(('0x' || left(md5(p.salt || ':' || lpad(lower(hex(q.referral_key)), 32, '0')), 8)) AS UBIGINT) % 1000
                < p.sample_per_mille AS audit_sample,
        q.probability IS NOT NULL
            AND row_number() OVER (
                ORDER BY q.probability * (1 - q.probability) DESC NULLS LAST, q.referral_key
            ) <= p.uncertain_n AS uncertain
    FROM in_scope AS q
    CROSS JOIN params AS p
    CROSS JOIN newest AS n
),

final AS (
    SELECT
        m.referral_key,
        left(lpad(lower(hex(m.referral_key)), 32, '0'), 10) AS short_id,
        m.received_date,
        m.agency_code,
        m.country_iso3,
        m.platform_name,
        m.incident_type_code,
        m.status,
        m.tier,
        m.probability,
        m.priority_score,
        m.rules_fired,
        m.contributions,
        m.run_id,
        m.model_version,
        m.audit_sample,
        m.uncertain,
        count(*) OVER () AS matching
    FROM marked AS m
    CROSS JOIN params AS p
    WHERE (len(p.tiers) = 0 OR list_contains(p.tiers, m.tier))
      AND (
          p.show = 'queue'
          OR (p.show = 'sample' AND (m.audit_sample OR m.uncertain))
          OR (p.show = 'audit' AND m.audit_sample)
          OR (p.show = 'uncertain' AND m.uncertain)
      )
)

-- The key becomes decimal text only for the page's rows: casting a 128-bit integer to text is slow.
SELECT * REPLACE (CAST(referral_key AS VARCHAR) AS referral_key)
FROM (
    SELECT *
    FROM final
    ORDER BY (audit_sample OR uncertain) DESC, priority_score DESC, received_date, referral_key
    LIMIT $limit OFFSET $offset
) AS page
ORDER BY (audit_sample OR uncertain) DESC, priority_score DESC, received_date, page.referral_key
