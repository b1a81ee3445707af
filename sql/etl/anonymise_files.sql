-- Anonymise the valid staged file rows. The provider's file id and original file name are
-- dropped; the report id becomes the same keyed pseudonym as its referral's key (looked up
-- from the batch's referrals, computed only for files whose referral is not among them).
WITH valid AS (
    SELECT s.*
    FROM stg_files AS s
    ANTI JOIN problem_rows AS p
        ON p.dataset = 'files' AND p.source_file = s._source_file AND p.row_number = s._row
),
keys AS (
    SELECT DISTINCT report_id, referral_key FROM anon_referrals
),
final AS (
    SELECT
        _source_file,
        _row,
        trim(valid.report_id) AS report_id,
        CASE WHEN keys.referral_key IS NOT NULL THEN keys.referral_key
             ELSE left(sha256($opad || unhex(sha256($ipad || encode('referral' || chr(31) || trim(valid.report_id))))), 32)
        END AS referral_key,
        trim(file_id) AS file_id,
        NULLIF(lower(trim(md5)), '')  AS md5,
        NULLIF(lower(trim(sha1)), '') AS sha1,
        NULLIF(lower(trim(pdq)), '')  AS pdq,
        coalesce(NULLIF(trim(industry_classification), ''), 'UNCLASSIFIED') AS category_code,
        contains(';' || replace(coalesce(file_annotations, ''), ' ', '') || ';', ';viral;')                    AS is_viral,
        contains(';' || replace(coalesce(file_annotations, ''), ' ', '') || ';', ';possible_self_production;') AS is_self_generated,
        contains(';' || replace(coalesce(file_annotations, ''), ' ', '') || ';', ';generative_ai;')            AS is_generative_ai,
        contains(';' || replace(coalesce(file_annotations, ''), ' ', '') || ';', ';live_streaming;')           AS is_live_streaming,
        CASE WHEN NULLIF(trim(publicly_available), '') IS NOT NULL
             THEN lower(trim(publicly_available)) IN ('true', 't', '1', 'yes', 'y') END AS is_publicly_available,
        CASE WHEN NULLIF(trim(viewed_by_esp), '') IS NOT NULL
             THEN lower(trim(viewed_by_esp)) IN ('true', 't', '1', 'yes', 'y') END AS is_viewed_by_esp
    FROM valid
    LEFT JOIN keys ON keys.report_id = trim(valid.report_id)
)
SELECT * FROM final
