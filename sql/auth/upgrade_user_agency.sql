-- Older stores: the agency scope column of auth_user (see schema.sql).
ALTER TABLE auth_user ADD COLUMN agency_code TEXT
