-- The rows of mart_distinct_period of one grain ($grain) for one copy of a replicated warehouse
-- (benchmarks/replicate_warehouse.py), from its facts alone: distinct accounts and media clusters per
-- period and cell (EU total, per country, per platform; '*' = all). A copy's rows carry its number at the
-- end of their batch ids ('#<copy>', parameter $copy), and no other copy shares an item, so copies' counts
-- add. One grain at a time: all five at once needed more than 13 GB for a copy of 10 M referrals.
WITH items AS (
    SELECT incident_date, country_iso3, platform_name, account_pseudonym AS account, NULL AS cluster
    FROM fact_referral
    WHERE regexp_extract(batch_id, '#(\d+)$', 1) = CAST($copy AS VARCHAR)
    UNION ALL
    SELECT incident_date, country_iso3, platform_name, NULL, cluster_id
    FROM fact_file_occurrence
    WHERE regexp_extract(batch_id, '#(\d+)$', 1) = CAST($copy AS VARCHAR)
),
cells AS (
    SELECT CAST($grain AS VARCHAR) AS grain, CAST(date_trunc(CAST($grain AS VARCHAR), incident_date) AS DATE) AS period_start,
           coalesce(country_iso3, '*') AS country_iso3, coalesce(platform_name, '*') AS platform_name,
           count(DISTINCT account) AS accounts, count(DISTINCT cluster) AS clusters
    FROM items
    GROUP BY GROUPING SETS ((period_start, country_iso3), (period_start, platform_name), (period_start))
)
SELECT grain, period_start, country_iso3, platform_name, accounts, clusters
FROM cells
WHERE accounts > 0 OR clusters > 0
