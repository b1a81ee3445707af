-- New referrals of the batch, with the number of files loaded for each.
WITH file_counts AS (
    SELECT referral_key, count(*) AS file_count FROM batch_clustered GROUP BY referral_key
),
final AS (
    SELECT r.referral_key, $batch_id AS batch_id, r.incident_date, r.received_date, r.triaged_date, r.closed_date,
           r.country_iso3, r.agency_code, r.platform_name, r.channel, r.incident_type_code, r.account_pseudonym,
           r.located_country_iso3, r.victim_age_band, r.is_actionable, r.is_escalated, r.bundle_size,
           r.has_sextortion, r.has_solicitation, r.has_minor_to_minor, r.unit, r.status, r.outcome,
           CAST(coalesce(file_counts.file_count, 0) AS INTEGER) AS file_count
    FROM new_referrals AS r
    LEFT JOIN file_counts USING (referral_key)
)
SELECT * FROM final ORDER BY incident_date, referral_key
