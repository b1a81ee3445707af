-- Features of each referral as they were known when it was received, and its label when known
-- (classification/features.py). Referrals received from $start to $end, and only batch $batch_id when it
-- is not NULL (scoring a batch in its transaction). Never a triage, closure or outcome field among the
-- features (a test checks): those are what the model predicts or what follows from it.
WITH chosen AS (
    SELECT *
    FROM fact_referral
    WHERE received_date BETWEEN $start AND $end
      AND ($batch_id IS NULL OR batch_id = $batch_id)
),
-- Earlier referrals of the same pseudonymous account (received before this one; ties by key).
account_history AS (
    SELECT referral_key,
           count(*) OVER (
               PARTITION BY account_pseudonym ORDER BY received_date, referral_key
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS earlier_account_reports
    FROM fact_referral
    WHERE account_pseudonym IN (SELECT account_pseudonym FROM chosen WHERE account_pseudonym IS NOT NULL)
),
files AS (
    SELECT o.referral_key,
           count(*)                                                            AS files_loaded,
           count(*) FILTER (WHERE NOT o.is_first_sighting)                     AS files_seen_before,
           count(*) FILTER (WHERE pc.perceptual_id IS NOT NULL
                              AND NOT (o.referral_key = pc.first_referral_key AND o.file_ordinal = pc.first_file_ordinal))
                                                                                AS files_near_duplicate_of_earlier,
           count(*) FILTER (WHERE m.is_known)                                  AS files_known,
           count(*) FILTER (WHERE o.category_code = 'A1')                      AS files_a1,
           count(*) FILTER (WHERE o.category_code = 'A2')                      AS files_a2,
           count(*) FILTER (WHERE o.category_code = 'B1')                      AS files_b1,
           count(*) FILTER (WHERE o.category_code = 'B2')                      AS files_b2,
           count(*) FILTER (WHERE o.is_self_generated)                         AS files_self_generated,
           count(*) FILTER (WHERE o.is_generative_ai)                          AS files_generative_ai,
           count(*) FILTER (WHERE o.is_live_streaming)                         AS files_live_streaming,
           count(*) FILTER (WHERE o.is_viral)                                  AS files_viral,
           count(*) FILTER (WHERE o.is_publicly_available)                     AS files_public,
           count(*) FILTER (WHERE o.is_viewed_by_esp)                          AS files_viewed_by_esp,
           -- The agency's content classifier (grace hash --classifier): files it gave a code other than
           -- the benign N, and its highest confidence on such a code.
           count(*) FILTER (WHERE o.classifier_category <> 'N')                AS files_classifier_flagged,
           max(o.classifier_confidence) FILTER (WHERE o.classifier_category <> 'N') AS classifier_top_confidence
    FROM fact_file_occurrence AS o
    JOIN media_cluster AS m USING (cluster_id)
    LEFT JOIN perceptual_member AS pm USING (cluster_id)
    LEFT JOIN perceptual_cluster AS pc USING (perceptual_id)
    WHERE o.referral_key IN (SELECT referral_key FROM chosen)
    GROUP BY o.referral_key
),
final AS (
    SELECT c.referral_key,
           c.received_date,
           c.country_iso3,
           c.agency_code,
           c.platform_name,
           c.channel,
           c.incident_type_code,
           c.victim_age_band,
           c.bundle_size,
           c.file_count,
           c.has_sextortion,
           c.has_solicitation,
           c.has_minor_to_minor,
           c.is_actionable,
           c.account_pseudonym IS NOT NULL                                   AS has_account,
           coalesce(h.earlier_account_reports, 0)                            AS earlier_account_reports,
           coalesce(c.located_country_iso3 <> c.country_iso3, false)         AS located_abroad,
           c.located_country_iso3 IS NULL                                    AS location_unknown,
           coalesce(f.files_loaded, 0)                    AS files_loaded,
           coalesce(f.files_seen_before, 0)               AS files_seen_before,
           coalesce(f.files_near_duplicate_of_earlier, 0) AS files_near_duplicate_of_earlier,
           coalesce(f.files_known, 0)                     AS files_known,
           coalesce(f.files_a1, 0)                        AS files_a1,
           coalesce(f.files_a2, 0)                        AS files_a2,
           coalesce(f.files_b1, 0)                        AS files_b1,
           coalesce(f.files_b2, 0)                        AS files_b2,
           coalesce(f.files_self_generated, 0)            AS files_self_generated,
           coalesce(f.files_generative_ai, 0)             AS files_generative_ai,
           coalesce(f.files_live_streaming, 0)            AS files_live_streaming,
           coalesce(f.files_viral, 0)                     AS files_viral,
           coalesce(f.files_public, 0)                    AS files_public,
           coalesce(f.files_viewed_by_esp, 0)             AS files_viewed_by_esp,
           coalesce(f.files_classifier_flagged, 0)        AS files_classifier_flagged,
           coalesce(f.classifier_top_confidence, 0)       AS classifier_top_confidence,
           -- Not features: the case system's own escalation flag (a baseline to beat) and the label.
           c.is_escalated                                                    AS baseline_escalated,
           CASE WHEN c.outcome IN ('investigation_opened', 'arrest') THEN 1
                WHEN c.closed_date IS NOT NULL THEN 0 END                     AS label,
           c.closed_date                                                     AS label_date
    FROM chosen AS c
    LEFT JOIN account_history AS h USING (referral_key)
    LEFT JOIN files AS f USING (referral_key)
)
-- Keys as fixed-width hex text ('0x' + 32 digits): casting a 128-bit integer to decimal text is slow.
SELECT * REPLACE ('0x' || lpad(hex(referral_key), 32, '0') AS referral_key) FROM final ORDER BY received_date, final.referral_key
