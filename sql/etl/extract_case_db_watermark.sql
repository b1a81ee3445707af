-- Extraction watermark of one case database: the highest referral id already loaded from it
-- (NULL when nothing was loaded yet). Runs on the warehouse (DuckDB).
WITH loaded AS (
    SELECT TRY_CAST(watermark AS BIGINT) AS last_id
    FROM etl_batch
    WHERE source_kind = $kind
      AND source_path = $path
      AND status = 'loaded'
),
final AS (
    SELECT max(last_id) AS watermark FROM loaded
)
SELECT watermark FROM final
