-- Quarantined records per batch and reason, for the chart of quarantine reasons over time.
-- Parameters: $datasets VARCHAR[] ('referrals', 'files'; empty list = both).
-- Every batch is returned, in order of start: a batch without quarantined records has one row
-- with reason NULL and records 0, so the chart keeps every batch in its place.
-- A record is one input row (file, row number); a record that broke several rules counts once
-- per reason. Rows without a row number (a whole unreadable file) count as one record each.
WITH params AS (
    SELECT CAST($datasets AS VARCHAR[]) AS datasets
),

selected AS (
    SELECT q.batch_id, q.dataset, q.reason, q.source_file, q.row_number
    FROM quarantine AS q
    CROSS JOIN params AS p
    WHERE len(p.datasets) = 0 OR list_contains(p.datasets, q.dataset)
),

per_reason AS (
    SELECT
        batch_id,
        reason,
        count(DISTINCT (dataset, source_file, coalesce(row_number, -1))) AS records
    FROM selected
    GROUP BY batch_id, reason
),

final AS (
    SELECT
        b.batch_id,
        b.source_kind,
        parse_filename(b.source_path) AS source,  -- the delivery's name: server paths never leave the warehouse
        b.started_at,
        r.reason,
        CAST(coalesce(r.records, 0) AS BIGINT) AS records
    FROM etl_batch AS b
    LEFT JOIN per_reason AS r ON r.batch_id = b.batch_id
)

SELECT batch_id, source_kind, source, started_at, reason, records
FROM final
ORDER BY started_at, batch_id, reason NULLS FIRST
