-- Reopen one alert for one user (it needs attention again).
DELETE FROM alert_review WHERE user_name = :user_name AND alert_key = :alert_key
