-- Add this batch's increments to the cells that exist.
UPDATE mart_distinct_period SET accounts = mart_distinct_period.accounts + i.accounts,
                                clusters = mart_distinct_period.clusters + i.clusters
FROM mart_distinct_increments AS i
WHERE mart_distinct_period.grain = i.grain AND mart_distinct_period.period_start = i.period_start
  AND mart_distinct_period.country_iso3 = i.country_iso3 AND mart_distinct_period.platform_name = i.platform_name
