-- The newest row of one event for one user (to merge an exact repeat a moment later).
SELECT at, detail FROM audit_log
WHERE event = :event AND user_name IS :user_name
ORDER BY id DESC
LIMIT 1
