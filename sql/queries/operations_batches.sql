-- ETL batches with their row accounting checked, throughput and the quarantine records kept.
-- No parameters: etl_batch and quarantine are small lineage tables (one row per batch, one per
-- rejected record), never filtered by country, platform or incident period (they have none).
--   referrals_gap / files_gap : in - (loaded + quarantined + duplicate); 0 when the batch balances
--   *_quarantine_records      : distinct (file, row) records the quarantine table holds for the
--                               batch, counted as the ETL counts them, so it must equal *_quarantined
--   referrals_per_second      : referrals read per second of batch wall time (NULL for a 0 s batch)
WITH kept AS (
    SELECT
        batch_id,
        count(DISTINCT (source_file, row_number)) FILTER (WHERE dataset = 'referrals' AND row_number IS NOT NULL)
            AS referral_records,
        count(DISTINCT (source_file, row_number)) FILTER (WHERE dataset = 'files' AND row_number IS NOT NULL)
            AS file_records,
        count(*) AS entries
    FROM quarantine
    GROUP BY batch_id
),

final AS (
    SELECT
        b.batch_id,
        b.source_kind,
        parse_filename(b.source_path) AS source,  -- the delivery's name: server paths never leave the warehouse
        b.status,
        b.started_at,
        b.finished_at,
        b.duration_seconds,
        b.stage_seconds,
        b.referrals_in,
        b.referrals_loaded,
        b.referrals_quarantined,
        b.referrals_duplicate,
        b.referrals_in - b.referrals_loaded - b.referrals_quarantined - b.referrals_duplicate AS referrals_gap,
        b.files_in,
        b.files_loaded,
        b.files_quarantined,
        b.files_duplicate,
        b.files_in - b.files_loaded - b.files_quarantined - b.files_duplicate AS files_gap,
        CAST(coalesce(k.referral_records, 0) AS BIGINT) AS referrals_quarantine_records,
        CAST(coalesce(k.file_records, 0) AS BIGINT) AS files_quarantine_records,
        CAST(coalesce(k.entries, 0) AS BIGINT) AS quarantine_entries,
        CASE WHEN b.duration_seconds > 0 THEN b.referrals_in / b.duration_seconds END AS referrals_per_second
    FROM etl_batch AS b
    LEFT JOIN kept AS k ON k.batch_id = b.batch_id
)

SELECT *
FROM final
ORDER BY started_at, batch_id
