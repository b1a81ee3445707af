-- Hash of the newest audit row (the chain's head).
SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1
