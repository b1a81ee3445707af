-- The differentially private releases merged into a hub warehouse (dp_release), newest month first: the
-- lineage an auditor checks — agency, month, ε, k, cells and suppressed cells, the shown total, the file's
-- checksum and when the hub received it. Empty on every other warehouse.
-- Parameters: $limit INTEGER (how many releases to list).
WITH final AS (
    SELECT
        agency_code,
        strftime(month, '%Y-%m') AS month,
        epsilon,
        k,
        cells,
        suppressed_cells,
        referrals,
        checksum,
        parse_filename(source_path) AS source,
        received_at
    FROM dp_release
)

SELECT agency_code, month, epsilon, k, cells, suppressed_cells, referrals, checksum, source, received_at
FROM final
ORDER BY month DESC, agency_code
LIMIT $limit
