-- The weeks and months that hold a date listed in temp table `period_rollup_dates` (date_key): the periods
-- whose weekly and monthly rollup rows a change of those days' daily rows makes stale.
SELECT DISTINCT g.grain, CAST(date_trunc(g.grain, a.date_key) AS DATE) AS period_start
FROM period_rollup_dates AS a
CROSS JOIN (VALUES ('week'), ('month')) AS g (grain)
