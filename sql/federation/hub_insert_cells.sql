-- Every cell of one release, as released (referrals NULL where suppressed). `incoming_cells` is the checked
-- frame of federation/release_file.py registered on the connection; the agency and month are bound.
INSERT INTO dp_release_cell
SELECT $agency, $month, country_iso3, platform_name, CAST(referrals AS BIGINT), CAST(suppressed AS BOOLEAN)
FROM incoming_cells
