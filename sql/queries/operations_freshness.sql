-- Data freshness per source kind: batches loaded, the last batch and what it loaded, next to the
-- warehouse-wide latest incident date (the rollups carry no source, and the dashboard never scans
-- the fact tables, so the latest incident date is not broken down by source).
-- No parameters.
WITH latest_incident AS (
    SELECT max(date_key) AS latest_incident_date
    FROM rollup_referral_daily
),

per_source AS (
    SELECT
        source_kind,
        count(*) AS batches,
        sum(referrals_loaded) AS referrals_loaded,
        sum(files_loaded) AS files_loaded,
        max(finished_at) AS last_batch_finished_at,
        arg_max(batch_id, (finished_at, batch_id)) AS last_batch_id,
        arg_max(status, (finished_at, batch_id)) AS last_batch_status,
        arg_max(watermark, (finished_at, batch_id)) AS last_watermark
    FROM etl_batch
    GROUP BY source_kind
),

final AS (
    SELECT
        s.source_kind,
        CAST(s.batches AS BIGINT) AS batches,
        CAST(s.referrals_loaded AS BIGINT) AS referrals_loaded,
        CAST(s.files_loaded AS BIGINT) AS files_loaded,
        s.last_batch_finished_at,
        s.last_batch_id,
        s.last_batch_status,
        s.last_watermark,
        l.latest_incident_date
    FROM per_source AS s
    CROSS JOIN latest_incident AS l
)

SELECT *
FROM final
ORDER BY source_kind
