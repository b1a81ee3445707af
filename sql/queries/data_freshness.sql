-- How fresh the warehouse is: latest incident date in the rollup and the latest ETL batch.
WITH incidents AS (
    SELECT max(date_key) AS latest_incident_date
    FROM rollup_referral_daily
),

batches AS (
    SELECT
        max(finished_at) AS latest_batch_finished_at,
        count(*) AS batch_count
    FROM etl_batch
),

final AS (
    SELECT
        incidents.latest_incident_date,
        batches.latest_batch_finished_at,
        CAST(batches.batch_count AS BIGINT) AS batch_count
    FROM incidents
    CROSS JOIN batches
)

SELECT latest_incident_date, latest_batch_finished_at, batch_count
FROM final
