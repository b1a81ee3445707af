-- Keep bank_match.is_suppressed true exactly for the matches of positive banks whose cluster also
-- matches an enabled entry of a negative bank (for PDQ, within that bank's threshold). Only the rows
-- whose flag changes are written.
UPDATE bank_match SET is_suppressed = NOT is_suppressed
WHERE is_suppressed <> (
    bank_name IN (SELECT bank_name FROM hash_bank WHERE NOT is_negative)
    AND cluster_id IN (
        SELECT m.cluster_id
        FROM bank_match AS m
        JOIN hash_bank AS b ON b.bank_name = m.bank_name
        JOIN hash_bank_entry AS e ON e.bank_name = m.bank_name AND e.entry_id = m.entry_id
        WHERE b.is_negative AND e.is_enabled AND (m.match_kind <> 'pdq' OR m.distance <= b.pdq_threshold)
    )
)
