-- Newest audit rows first, optionally only one event, one user, or rows at or after a time.
SELECT id, at, event, user_name, client, detail, prev_hash, row_hash
FROM audit_log
WHERE (:event IS NULL OR event = :event)
  AND (:user_name IS NULL OR user_name = :user_name)
  AND (:since IS NULL OR at >= :since)
ORDER BY id DESC
LIMIT :limit
