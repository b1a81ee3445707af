-- Records quarantined per month of ETL batch start, for the Overview's quarantine KPI.
-- No parameters: quarantine rows have no country or platform, so this KPI is never filtered.
-- `is_complete` is false for the month of the latest batch (more batches may still arrive).
WITH monthly AS (
    SELECT
        CAST(date_trunc('month', b.started_at) AS DATE) AS month,
        sum(b.referrals_quarantined + b.files_quarantined) AS quarantined
    FROM etl_batch AS b
    GROUP BY 1
),

latest AS (
    SELECT max(month) AS month FROM monthly
),

final AS (
    SELECT m.month, CAST(m.quarantined AS BIGINT) AS quarantined, m.month < l.month AS is_complete
    FROM monthly AS m
    CROSS JOIN latest AS l
)

SELECT month, quarantined, is_complete
FROM final
ORDER BY month
