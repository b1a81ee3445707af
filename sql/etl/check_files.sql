-- Validate and anonymise the staged file rows in one scan (`checked_files_input` adds `_file`
-- and `problems`, as for referrals). The provider's file id is kept in this temp table only,
-- to spot repeated rows; the original file name is dropped. Each row learns what happened to
-- its referral in this batch (`parent`): 'new', 'loaded' (a duplicate of an earlier batch),
-- 'quarantined', or NULL when the referral is not in this delivery; the file's referral key is
-- its referral's key. Valid hashes are lower-case hex (the contract's patterns), so they are
-- only trimmed.
WITH parents AS (
    SELECT report_id, any_value(referral_key) AS referral_key, bool_or(problems IS NULL) AS is_valid
    FROM checked_referrals
    WHERE report_id IS NOT NULL
    GROUP BY report_id
),
final AS (
    SELECT
        f._file,
        f._row,
        f._item,
        f.problems,
        CASE WHEN p.is_valid THEN p.referral_key END                                        AS referral_key,
        CASE WHEN NOT p.is_valid THEN 'quarantined'
             WHEN b.referral_key IS NOT NULL THEN 'loaded'
             WHEN p.is_valid THEN 'new' END                                                 AS parent,
        trim(f.file_id)                                                                     AS file_id,
        NULLIF(trim(f.md5), '')                                                             AS md5,
        NULLIF(trim(f.sha1), '')                                                            AS sha1,
        NULLIF(trim(f.pdq), '')                                                             AS pdq,
        TRY_CAST(NULLIF(trim(f.pdq_quality), '') AS SMALLINT)                               AS pdq_quality,
        NULLIF(trim(f.classifier_category), '')                                             AS classifier_category,
        TRY_CAST(NULLIF(trim(f.classifier_confidence), '') AS DOUBLE)                       AS classifier_confidence,
        NULLIF(trim(f.classifier_model), '')                                                AS classifier_model,
        NULLIF(trim(f.classifier_version), '')                                              AS classifier_version,
        coalesce(NULLIF(trim(f.industry_classification), ''), 'UNCLASSIFIED')              AS category_code,
        contains(';' || replace(coalesce(f.file_annotations, ''), ' ', '') || ';', ';viral;')                    AS is_viral,
        contains(';' || replace(coalesce(f.file_annotations, ''), ' ', '') || ';', ';possible_self_production;') AS is_self_generated,
        contains(';' || replace(coalesce(f.file_annotations, ''), ' ', '') || ';', ';generative_ai;')            AS is_generative_ai,
        contains(';' || replace(coalesce(f.file_annotations, ''), ' ', '') || ';', ';live_streaming;')           AS is_live_streaming,
        CASE WHEN NULLIF(trim(f.publicly_available), '') IS NOT NULL
             THEN lower(trim(f.publicly_available)) IN ('true', 't', '1', 'yes', 'y') END AS is_publicly_available,
        CASE WHEN NULLIF(trim(f.viewed_by_esp), '') IS NOT NULL
             THEN lower(trim(f.viewed_by_esp)) IN ('true', 't', '1', 'yes', 'y') END      AS is_viewed_by_esp
    FROM checked_files_input AS f
    LEFT JOIN parents AS p ON p.report_id = trim(f.report_id)
    LEFT JOIN keys_loaded_before AS b ON b.referral_key = p.referral_key
)
SELECT * FROM final
