-- Marks the warehouse as monthly data only, covered to the last day of its latest month (warehouse/grain.py).
INSERT OR REPLACE INTO warehouse_meta
SELECT 'data_grain', 'month'
UNION ALL
SELECT 'covered_until', strftime(CAST(max(month) + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), '%Y-%m-%d')
FROM dp_release
