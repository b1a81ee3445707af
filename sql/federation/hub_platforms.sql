-- Platforms named by the releases, first seen in the earliest month that names them (rebuilt each merge).
INSERT OR REPLACE INTO dim_platform
SELECT platform_name, NULL, min(month)
FROM dp_release_cell
GROUP BY platform_name
