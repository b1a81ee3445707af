-- The releasing agencies, each with the first of its countries (as the ETL does) and its first month.
INSERT OR REPLACE INTO dim_agency
SELECT agency_code, min(country_iso3), min(month)
FROM dp_release_cell
GROUP BY agency_code
