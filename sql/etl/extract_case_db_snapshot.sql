-- The extraction transaction's snapshot as 64-bit transaction ids: `snapshot_xmin`, below which
-- every transaction had finished when the snapshot was taken (its rows are all visible or never
-- will be), and `next_xid`, the first id not yet assigned. Runs on the case database.
WITH current_snapshot AS (
    SELECT pg_current_snapshot() AS snapshot
),
final AS (
    SELECT
        CAST(CAST(pg_snapshot_xmin(snapshot) AS text) AS bigint) AS snapshot_xmin,
        CAST(CAST(pg_snapshot_xmax(snapshot) AS text) AS bigint) AS next_xid
    FROM current_snapshot
)
SELECT snapshot_xmin, next_xid FROM final
