-- Dimension rows the batch needs besides calendar days (etl/insert_calendar_days.sql): platforms and
-- agencies (first seen dates move earlier when late records arrive). Several statements, run as one script.
INSERT INTO dim_platform BY NAME
SELECT platform_name, mode(channel) AS primary_channel, min(incident_date) AS first_seen_date
FROM new_referrals WHERE platform_name NOT IN (SELECT platform_name FROM dim_platform)
GROUP BY platform_name;

UPDATE dim_platform SET first_seen_date = b.first_date
FROM (SELECT platform_name, min(incident_date) AS first_date FROM new_referrals GROUP BY 1) AS b
WHERE dim_platform.platform_name = b.platform_name AND b.first_date < dim_platform.first_seen_date;

INSERT INTO dim_agency BY NAME
SELECT agency_code, min(country_iso3) AS country_iso3, min(incident_date) AS first_seen_date
FROM new_referrals WHERE agency_code NOT IN (SELECT agency_code FROM dim_agency)
GROUP BY agency_code;

UPDATE dim_agency SET first_seen_date = b.first_date
FROM (SELECT agency_code, min(incident_date) AS first_date FROM new_referrals GROUP BY 1) AS b
WHERE dim_agency.agency_code = b.agency_code AND b.first_date < dim_agency.first_seen_date;

INSERT INTO dim_country BY NAME
SELECT DISTINCT located_country_iso3 AS country_iso3, NULL AS country_iso2, located_country_iso3 AS country_name, false AS is_eu27
FROM new_referrals
WHERE located_country_iso3 IS NOT NULL AND located_country_iso3 NOT IN (SELECT country_iso3 FROM dim_country);
