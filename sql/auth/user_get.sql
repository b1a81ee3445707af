-- One user by name.
SELECT name, role, country_iso3, agency_code, password_hash, enabled, session_version, created_at, updated_at
FROM auth_user
WHERE name = :name
