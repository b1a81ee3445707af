-- Failed logins from one client address since a time (rate limiting).
SELECT count(*) FROM audit_log
WHERE event = 'login_failure' AND client = :client AND at >= :since
