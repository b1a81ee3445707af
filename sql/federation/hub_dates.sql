-- Calendar days from the first released month to the end of the latest one.
INSERT OR IGNORE INTO dim_date
SELECT d, year(d), quarter(d), month(d), isoyear(d), weekofyear(d), isodow(d), isodow(d) >= 6,
       date_trunc('month', d)::DATE, date_trunc('week', d)::DATE
FROM (
    SELECT unnest(generate_series(min(month), max(month) + INTERVAL 1 MONTH - INTERVAL 1 DAY, INTERVAL 1 DAY))::DATE AS d
    FROM dp_release
)
WHERE d IS NOT NULL
