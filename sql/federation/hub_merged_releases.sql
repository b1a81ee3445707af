-- The releases a hub warehouse already holds (federation/hub_warehouse.py): one per agency-month, with the
-- checksum that decides whether a file offered again is the same release or a second one (refused).
SELECT agency_code, strftime(month, '%Y-%m') AS month, checksum, source_path, received_at
FROM dp_release
ORDER BY agency_code, month
