-- Extraction watermark of one case database, from the batches loaded from it (NULLs when none).
-- Runs on the warehouse (DuckDB). A batch's watermark is `<last id>`, and for the last chunk of
-- an extraction `<last id> xmin=<snapshot xmin>` (a warehouse loaded before snapshot xmins were
-- recorded has ids only). `last_id`: the highest referral id loaded; `snapshot_xmin`: the snapshot
-- xmin of the latest complete extraction (its last chunk loads only after every earlier chunk).
WITH loaded AS (
    SELECT
        TRY_CAST(regexp_extract(watermark, '^(-?[0-9]+)', 1) AS BIGINT) AS last_id,
        TRY_CAST(regexp_extract(watermark, ' xmin=([0-9]+)$', 1) AS BIGINT) AS snapshot_xmin
    FROM etl_batch
    WHERE source_kind = $kind
      AND source_path = $path
      AND status = 'loaded'
),
final AS (
    SELECT max(last_id) AS last_id, max(snapshot_xmin) AS snapshot_xmin FROM loaded
)
SELECT last_id, snapshot_xmin FROM final
