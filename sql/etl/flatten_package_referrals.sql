-- Flatten NCMEC-style referral packages (one JSON object per line in pkg_lines) into the
-- case-export referral columns, as text; validation then applies the case_export contract.
WITH packages AS (
    SELECT _row, line::JSON AS j FROM pkg_lines
),
final AS (
    SELECT
        j->>'$.reportId'                                        AS report_id,
        j->>'$.reporter.espName'                                AS esp_name,
        j->>'$.reporter.espService'                             AS esp_service,
        j->>'$.incidentSummary.incidentType'                    AS incident_type,
        j->>'$.incidentSummary.incidentDateTime'                AS incident_datetime,
        array_to_string(j->>'$.incidentSummary.reportAnnotations[*]', ';') AS report_annotations,
        j->>'$.personOrUserReported.screenName'                 AS reported_screen_name,
        j->>'$.personOrUserReported.displayName'                AS reported_display_name,
        j->>'$.personOrUserReported.email'                      AS reported_email,
        j->>'$.personOrUserReported.phone'                      AS reported_phone,
        j->>'$.personOrUserReported.ipCaptureEvent[0].ipAddress' AS reported_ip,
        j->>'$.personOrUserReported.ipCaptureEvent[0].eventName' AS reported_ip_event,
        j->>'$.personOrUserReported.ipCaptureEvent[0].dateTime'  AS reported_ip_datetime,
        j->>'$.personOrUserReported.estimatedLocation.countryCode' AS estimated_location_country,
        j->>'$.victim.estimatedAge'                             AS victim_age,
        j->>'$.routing.reportingCountry'                        AS reporting_country,
        j->>'$.routing.receivingAgency'                         AS receiving_agency,
        j->>'$.routing.actionable'                              AS is_actionable,
        j->>'$.routing.escalated'                               AS is_escalated,
        j->>'$.routing.bundleSize'                              AS bundle_size,
        j->>'$.incidentSummary.additionalInfo'                  AS additional_info,
        j->>'$.incidentSummary.url'                             AS incident_url,
        j->>'$.routing.receivedDate'                            AS received_date,
        NULL::VARCHAR                                           AS triaged_date,
        NULL::VARCHAR                                           AS closed_date,
        NULL::VARCHAR                                           AS unit,
        'received'                                              AS status,
        NULL::VARCHAR                                           AS outcome,
        $source_file                                            AS _source_file,
        _row,
        0                                                       AS _item
    FROM packages
)
SELECT * FROM final
