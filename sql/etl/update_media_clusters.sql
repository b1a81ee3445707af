-- Clusters seen before: add this batch's occurrences and referrals, widen the date range,
-- move the first sighting when the batch holds an earlier one, refresh the reach counts.
UPDATE media_cluster SET
    occurrences        = media_cluster.occurrences + s.occurrences,
    referral_count     = media_cluster.referral_count + s.referrals,
    last_seen_date     = greatest(media_cluster.last_seen_date, s.last_date),
    first_seen_date    = least(media_cluster.first_seen_date, s.first_date),
    first_seen_country = coalesce(s.first_country, media_cluster.first_seen_country),
    first_seen_agency  = coalesce(s.first_agency, media_cluster.first_seen_agency),
    country_count      = s.country_count,
    agency_count       = s.agency_count
FROM (
    SELECT b.*, r.country_count, r.agency_count
    FROM batch_cluster_stats AS b
    JOIN batch_reach_counts AS r USING (cluster_id)
    WHERE NOT b.is_new_cluster
) AS s
WHERE media_cluster.rowid = s.old_row_id
