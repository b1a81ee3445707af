-- A corrected import replaces earlier figures with the same key (source, period type, period, country, platform,
-- metric; a missing country or platform matches a missing one): the earlier rows move to
-- published_statistic_history, marked with the import that replaced them. Same transaction as the insert.
INSERT INTO published_statistic_history BY NAME
SELECT old.*, CAST($import_id AS VARCHAR) AS superseded_by, CAST($imported_at AS TIMESTAMP) AS superseded_at
FROM published_statistic AS old
WHERE EXISTS (
    SELECT 1 FROM statistics_import AS new
    WHERE new.source = old.source AND new.period_type = old.period_type AND new.period = old.period
      AND new.country_iso3 IS NOT DISTINCT FROM old.country_iso3 AND new.platform IS NOT DISTINCT FROM old.platform
      AND new.metric = old.metric
);
