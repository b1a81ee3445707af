-- Schema 3 -> 4: every alert of a run in one table (analytics_alert), copied from the tables of the
-- detectors that raise alerts, exactly as `grace analyse` now writes it (analytics/detectors.py):
-- alert_key = series_id|kind|date. The DDL (run before this file) has created the table and
-- published_statistic_history. Runs in the upgrade's one transaction.
INSERT INTO analytics_alert
    (run_id, series_id, metric, grain, split_by, entity, kind, date, direction, before, after, relative, strength,
     alert_key)
SELECT run_id, series_id, metric, grain, split_by, entity, kind, date, direction, before, after, relative, strength,
       series_id || '|' || kind || '|' || strftime(date, '%Y-%m-%d')
FROM (
    SELECT run_id, series_id, metric, grain, split_by, entity, 'changepoint' AS kind, date, direction,
           level_before AS before, level_after AS after, relative_change AS relative, confidence AS strength
    FROM analytics_changepoint
    UNION ALL
    SELECT run_id, series_id, metric, grain, split_by, entity, 'anomaly', date, direction, expected, value, relative,
           score
    FROM analytics_anomaly
    UNION ALL
    SELECT run_id, series_id, metric, grain, split_by, entity, status, recent_start,
           CASE WHEN status = 'emerging' THEN 'up' ELSE 'down' END, baseline_mean, recent_mean, growth, recent_share
    FROM analytics_entity_status
    WHERE status IN ('emerging', 'vanishing')
) AS old_alerts
WHERE run_id NOT IN (SELECT DISTINCT run_id FROM analytics_alert);
