-- Every audit row in chain order (for verification).
SELECT id, at, event, user_name, client, detail, prev_hash, row_hash
FROM audit_log
ORDER BY id
