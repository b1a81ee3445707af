-- Validate and anonymise the staged referrals in one scan. `checked_referrals_input` (a view
-- the pipeline defines over stg_referrals) adds `_file` (the source file's number in this
-- batch) and `problems` (NULL for a valid row, else what the contract finds wrong with it).
-- Identifiers become keyed pseudonyms: HMAC-SHA256(key, value), computed here as
-- sha256(opad || sha256(ipad || value)) with $ipad/$opad derived from the key in Python and
-- bound as parameters, so the key never lands in a table; the first 128 bits are kept as a
-- UHUGEINT. Names, e-mails, phones, IPs, URLs and free text are not selected at all; ages
-- become bands; timestamps become UTC dates. Casts are TRY_CASTs: rows with problems are
-- kept here (with their key, to tell a quarantined parent from a missing one) but never loaded.
WITH typed AS (
    SELECT
        _file,
        _row,
        problems,
        NULLIF(trim(report_id), '')                                       AS report_id,
        trim(esp_name)                                                    AS platform_name,
        trim(esp_service)                                                 AS channel,
        trim(incident_type)                                               AS incident_type_code,
        CAST(timezone('UTC', TRY_CAST(trim(incident_datetime) AS TIMESTAMPTZ)) AS DATE) AS incident_date,
        ';' || replace(coalesce(report_annotations, ''), ' ', '') || ';' AS annotations,
        NULLIF(lower(trim(reported_screen_name)), '')                     AS screen_name,
        NULLIF(trim(estimated_location_country), '')                      AS located_country_iso3,
        TRY_CAST(NULLIF(trim(victim_age), '') AS INTEGER)                 AS victim_age,
        trim(reporting_country)                                           AS country_iso3,
        trim(receiving_agency)                                            AS agency_code,
        lower(trim(is_actionable)) IN ('true', 't', '1', 'yes', 'y')      AS is_actionable,
        lower(trim(is_escalated)) IN ('true', 't', '1', 'yes', 'y')       AS is_escalated,
        coalesce(TRY_CAST(NULLIF(trim(bundle_size), '') AS INTEGER), 1)   AS bundle_size,
        TRY_CAST(trim(received_date) AS DATE)                             AS received_date,
        TRY_CAST(NULLIF(trim(triaged_date), '') AS DATE)                  AS triaged_date,
        TRY_CAST(NULLIF(trim(closed_date), '') AS DATE)                   AS closed_date,
        NULLIF(trim(unit), '')                                            AS unit,
        trim(status)                                                      AS status,
        NULLIF(trim(outcome), '')                                         AS outcome
    FROM checked_referrals_input
),
final AS (
    SELECT
        _file,
        _row,
        problems,
        report_id,  -- kept in this temp table only, to key the batch's files; never loaded
        ('0x' || left(sha256($opad || unhex(sha256($ipad || encode('referral' || chr(31) || report_id)))), 32))::UHUGEINT
            AS referral_key,
        incident_date,
        received_date,
        triaged_date,
        closed_date,
        country_iso3,
        agency_code,
        platform_name,
        channel,
        incident_type_code,
        CASE WHEN screen_name IS NOT NULL THEN
            ('0x' || left(sha256($opad || unhex(sha256($ipad || encode('account' || chr(31) || platform_name || chr(31) || screen_name)))), 32))::UHUGEINT
        END AS account_pseudonym,
        located_country_iso3,
        CASE
            WHEN victim_age IS NULL THEN 'unknown'
            WHEN victim_age <= 2 THEN '0-2'
            WHEN victim_age <= 5 THEN '3-5'
            WHEN victim_age <= 8 THEN '6-8'
            WHEN victim_age <= 12 THEN '9-12'
            WHEN victim_age <= 15 THEN '13-15'
            ELSE '16-17'
        END AS victim_age_band,
        is_actionable,
        is_escalated,
        bundle_size,
        contains(annotations, ';sextortion;')                 AS has_sextortion,
        contains(annotations, ';csam_solicitation;')          AS has_solicitation,
        contains(annotations, ';minor_to_minor_interaction;') AS has_minor_to_minor,
        unit,
        status,
        outcome
    FROM typed
)
SELECT * FROM final
