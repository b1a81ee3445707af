-- Flatten the fileDetails array of each referral package into case-export file rows.
-- A file keeps the line number of its package as _row (what a quarantined file points at) and its place
-- in the package's fileDetails, from 0, as _item: (file, row, item) names one file row.
WITH files AS (
    SELECT _row, j->>'$.reportId' AS report_id, unnest(json_extract(j, '$.fileDetails[*]')) AS f,
           generate_subscripts(json_extract(j, '$.fileDetails[*]'), 1) - 1 AS _item
    FROM (SELECT _row, line::JSON AS j FROM pkg_lines)
),
final AS (
    SELECT
        report_id,
        f->>'$.fileId'                                  AS file_id,
        f->>'$.originalFileHash.md5'                    AS md5,
        f->>'$.originalFileHash.sha1'                   AS sha1,
        f->>'$.pdq'                                     AS pdq,
        f->>'$.pdqQuality'                              AS pdq_quality,
        NULL::VARCHAR                                   AS classifier_category,
        NULL::VARCHAR                                   AS classifier_confidence,
        NULL::VARCHAR                                   AS classifier_model,
        NULL::VARCHAR                                   AS classifier_version,
        array_to_string(f->>'$.fileAnnotations[*]', ';') AS file_annotations,
        f->>'$.industryClassification'                  AS industry_classification,
        f->>'$.publiclyAvailable'                       AS publicly_available,
        f->>'$.fileViewedByEsp'                         AS viewed_by_esp,
        f->>'$.originalFileName'                        AS original_file_name,
        $source_file                                    AS _source_file,
        _row,
        _item
    FROM files
)
SELECT * FROM final
