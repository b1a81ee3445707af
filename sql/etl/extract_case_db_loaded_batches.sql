-- Batches already loaded from one case database: a planned chunk among them is not loaded again,
-- and a chunk loads only once the chunk before it is among them. Runs on the warehouse (DuckDB).
WITH final AS (
    SELECT batch_id
    FROM etl_batch
    WHERE source_kind = $kind
      AND source_path = $path
      AND status = 'loaded'
)
SELECT batch_id FROM final ORDER BY batch_id
