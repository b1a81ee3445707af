-- Add one user (the name is the primary key: a second add of the same name fails).
INSERT INTO auth_user (name, role, country_iso3, agency_code, password_hash, enabled, session_version, created_at, updated_at)
VALUES (:name, :role, :country_iso3, :agency_code, :password_hash, 1, 1, :now, :now)
