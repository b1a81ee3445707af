-- Active positive bank matches, the one definition (the perceptual rollup's bank_matched_files, the
-- media clusters' is_known and `grace banks` read it): a match of a positive bank whose entry is
-- enabled, that no enabled negative-bank entry suppresses, and, for PDQ, within the bank's current
-- threshold (a lower threshold in a later version retires farther matches without deleting them).
-- `category` is the entry's current code (bank_match.category keeps the code as found). A CTE named
-- `active_bank_matches` followed by a comma: include it with `-- @include active_bank_matches` in a WITH.
active_bank_matches AS (
    SELECT m.cluster_id, m.bank_name, m.bank_version, m.entry_id, m.match_kind, m.distance, e.category
    FROM bank_match AS m
    JOIN hash_bank AS b ON b.bank_name = m.bank_name
    JOIN hash_bank_entry AS e ON e.bank_name = m.bank_name AND e.entry_id = m.entry_id
    WHERE NOT m.is_suppressed
      AND e.is_enabled
      AND NOT b.is_negative
      AND (m.match_kind <> 'pdq' OR m.distance <= b.pdq_threshold)
),
