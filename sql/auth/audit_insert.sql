-- Append one audit row (its id and hashes are computed by the caller inside the same transaction).
INSERT INTO audit_log (id, at, event, user_name, client, detail, prev_hash, row_hash)
VALUES (:id, :at, :event, :user_name, :client, :detail, :prev_hash, :row_hash)
