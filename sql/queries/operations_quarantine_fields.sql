-- Quarantined records by field and reason over all batches, for the "by field" chart.
-- Parameters: $datasets VARCHAR[] ('referrals', 'files'; empty list = both).
-- `field` is NULL for rows rejected before any field could be read (e.g. a malformed row);
-- those are reported as '(whole row)'.
WITH params AS (
    SELECT CAST($datasets AS VARCHAR[]) AS datasets
),

selected AS (
    SELECT q.dataset, coalesce(q.field, '(whole row)') AS field, q.reason, q.batch_id, q.source_file, q.row_number
    FROM quarantine AS q
    CROSS JOIN params AS p
    WHERE len(p.datasets) = 0 OR list_contains(p.datasets, q.dataset)
),

final AS (
    SELECT
        dataset,
        field,
        reason,
        CAST(count(DISTINCT (batch_id, source_file, coalesce(row_number, -1))) AS BIGINT) AS records
    FROM selected
    GROUP BY dataset, field, reason
)

SELECT dataset, field, reason, records
FROM final
ORDER BY records DESC, dataset, field, reason
