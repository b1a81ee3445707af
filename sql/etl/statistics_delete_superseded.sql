-- Remove the figures statistics_supersede.sql just moved to the history (same transaction).
DELETE FROM published_statistic AS old
WHERE EXISTS (
    SELECT 1 FROM statistics_import AS new
    WHERE new.source = old.source AND new.period_type = old.period_type AND new.period = old.period
      AND new.country_iso3 IS NOT DISTINCT FROM old.country_iso3 AND new.platform IS NOT DISTINCT FROM old.platform
      AND new.metric = old.metric
);
