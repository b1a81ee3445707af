-- Whether the warehouse has its lineage table yet (a new warehouse has no watermark to read).
WITH final AS (
    SELECT count(*) > 0 AS has_lineage
    FROM information_schema.tables
    WHERE table_name = 'etl_batch'
)
SELECT has_lineage FROM final
