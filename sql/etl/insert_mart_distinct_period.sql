-- Cells this batch opens.
WITH final AS (
    SELECT i.grain, i.period_start, i.country_iso3, i.platform_name, i.accounts, i.clusters
    FROM mart_distinct_increments AS i
    ANTI JOIN mart_distinct_period AS m USING (grain, period_start, country_iso3, platform_name)
)
SELECT * FROM final ORDER BY grain, period_start, country_iso3, platform_name
