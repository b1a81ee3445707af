-- Every alert one user has acknowledged or dismissed, in key order.
SELECT alert_key, action, at FROM alert_review WHERE user_name = :user_name ORDER BY alert_key
