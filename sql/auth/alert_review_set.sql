-- Record (or replace) one user's action on one alert.
INSERT INTO alert_review (user_name, alert_key, action, at)
VALUES (:user_name, :alert_key, :action, :at)
ON CONFLICT (user_name, alert_key) DO UPDATE SET action = excluded.action, at = excluded.at
