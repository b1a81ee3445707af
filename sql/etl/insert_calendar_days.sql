-- Calendar days: every day from the first to the last of temp table affected_dates that dim_date lacks.
-- Run by each ETL batch and by benchmarks/replicate_warehouse.py for the days its copies reach.
INSERT INTO dim_date
SELECT d, year(d), quarter(d), month(d), isoyear(d), weekofyear(d), isodow(d), isodow(d) >= 6,
       date_trunc('month', d)::DATE, date_trunc('week', d)::DATE
FROM (SELECT unnest(generate_series(min(date_key), max(date_key), INTERVAL 1 DAY))::DATE AS d FROM affected_dates)
WHERE d IS NOT NULL AND d NOT IN (SELECT date_key FROM dim_date);
