-- Load the typed rows of one published-statistics import (registered as `statistics_import`).
INSERT INTO published_statistic BY NAME
SELECT * FROM statistics_import
