-- Scope a user to one country, one agency (with its country) or nothing (read again on the user's next request).
UPDATE auth_user
SET country_iso3 = :country_iso3,
    agency_code = :agency_code,
    updated_at = :now
WHERE name = :name
