-- Failed logins for one user name since a time (rate limiting).
SELECT count(*) FROM audit_log
WHERE event = 'login_failure' AND user_name = :user_name AND at >= :since
