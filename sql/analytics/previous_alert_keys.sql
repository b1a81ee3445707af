-- The alert keys of each series' latest stored run (before the run being written): a new run's alert
-- whose key is not among them is "new since the previous run" of its series. Every analysed series
-- has a row in analytics_trend, so that table says which run last analysed a series. Model-drift alerts
-- are about the triage model, not a series' values: theirs are the drift alerts of the latest run that
-- monitored a model (has rows in analytics_model_monitor).
WITH last_run_of_series AS (
    SELECT t.series_id, arg_max(t.run_id, r.created_at) AS run_id
    FROM analytics_trend AS t
    JOIN analytics_run AS r ON r.run_id = t.run_id
    GROUP BY t.series_id
),

last_monitoring_run AS (
    SELECT arg_max(m.run_id, r.created_at) AS run_id
    FROM (SELECT DISTINCT run_id FROM analytics_model_monitor) AS m
    JOIN analytics_run AS r ON r.run_id = m.run_id
)

SELECT a.alert_key
FROM analytics_alert AS a
JOIN last_run_of_series AS l ON l.series_id = a.series_id AND l.run_id = a.run_id
WHERE a.kind <> 'drift'
UNION
SELECT a.alert_key
FROM analytics_alert AS a
JOIN last_monitoring_run AS l ON l.run_id = a.run_id
WHERE a.kind = 'drift'
ORDER BY alert_key
