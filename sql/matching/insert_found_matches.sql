-- Record the matches in `bank_found` that bank_match does not hold yet for the same (cluster, bank,
-- entry, kind), once each (the smallest distance), not suppressed: refresh_suppression.sql sets the
-- flag next, in the same transaction.
INSERT INTO bank_match
WITH found AS (
    SELECT cluster_id, bank_name, entry_id, match_kind,
           arg_min(bank_version, distance) AS bank_version, min(distance) AS distance,
           arg_min(category, distance) AS category
    FROM bank_found
    GROUP BY cluster_id, bank_name, entry_id, match_kind
),
final AS (
    SELECT f.cluster_id, f.bank_name, f.bank_version, f.entry_id, f.match_kind, f.distance, f.category,
           false AS is_suppressed, $found_by AS found_by, $found_at AS found_at
    FROM found AS f
    ANTI JOIN bank_match AS m
      ON m.cluster_id = f.cluster_id AND m.bank_name = f.bank_name AND m.entry_id = f.entry_id
     AND m.match_kind = f.match_kind
)
SELECT * FROM final ORDER BY cluster_id, bank_name, entry_id, match_kind
