-- What this batch adds to the distinct counts of mart_distinct_period: per grain, period and cell
-- (EU total, per country, per platform; '*' = all), the accounts and media clusters the batch
-- brings into that cell that no earlier batch had put there. Facts are only ever added, so a
-- cell's distinct count grows by exactly these, and the cost follows the batch's size, not the
-- warehouse's. Three shortcuts keep it cheap:
--   * an item never seen before (new cluster, first-time account) with one row in the batch is
--     new in each of its cells: a plain count per cell, no de-duplication;
--   * likewise an item whose batch rows share one country and platform, once per period;
--   * only items seen again, in periods where an earlier batch had them, are checked cell by
--     cell against the facts of earlier batches.
-- Reads mart_batch_items (this batch's accounts and clusters, flagged); parameter: $batch_id.
WITH grains AS (
    SELECT unnest(['day', 'week', 'month', 'quarter', 'year']) AS grain
),
single_counts AS (
    SELECT r.kind, g.grain, CAST(date_trunc(g.grain, r.incident_date) AS DATE) AS period_start,
           coalesce(r.country_iso3, '*') AS country_iso3, coalesce(r.platform_name, '*') AS platform_name,
           count(*) AS items
    FROM mart_batch_items AS r
    CROSS JOIN grains AS g
    WHERE r.single
    GROUP BY GROUPING SETS ((r.kind, g.grain, period_start, r.country_iso3), (r.kind, g.grain, period_start, r.platform_name),
                            (r.kind, g.grain, period_start))
),
earlier_rows AS (
    SELECT 'accounts' AS kind, incident_date, country_iso3, platform_name, account_pseudonym AS item
    FROM fact_referral
    WHERE batch_id <> $batch_id
      AND account_pseudonym IN (SELECT item FROM mart_batch_items WHERE kind = 'accounts' AND NOT fresh)
    UNION ALL
    SELECT 'clusters' AS kind, incident_date, country_iso3, platform_name, cluster_id AS item
    FROM fact_file_occurrence
    WHERE batch_id <> $batch_id
      AND cluster_id IN (SELECT item FROM mart_batch_items WHERE kind = 'clusters' AND NOT fresh)
),
batch_pairs AS (  -- each (grain, period, country, platform, item) of the other items once
    SELECT DISTINCT r.kind, g.grain, CAST(date_trunc(g.grain, r.incident_date) AS DATE) AS period_start,
           r.country_iso3, r.platform_name, r.item, r.fresh, r.uniform
    FROM mart_batch_items AS r
    CROSS JOIN grains AS g
    WHERE NOT r.single
),
earlier_pairs AS (  -- earlier rows only matter in the periods where this batch has the same item
    SELECT DISTINCT e.*
    FROM (SELECT r.kind, g.grain, CAST(date_trunc(g.grain, r.incident_date) AS DATE) AS period_start,
                 r.country_iso3, r.platform_name, r.item
          FROM earlier_rows AS r
          CROSS JOIN grains AS g) AS e
    SEMI JOIN (SELECT kind, grain, period_start, item FROM batch_pairs WHERE NOT fresh) AS b
         USING (kind, grain, period_start, item)
),
marked AS (  -- seen: an earlier batch has the item in the same period (some cells may not be new)
    SELECT p.* EXCLUDE (fresh), k.item IS NOT NULL AS seen
    FROM batch_pairs AS p
    LEFT JOIN (SELECT DISTINCT kind, grain, period_start, item FROM earlier_pairs) AS k
           USING (kind, grain, period_start, item)
),
uniform_counts AS (  -- one country and platform per item: each pair is its item's only row per cell
    SELECT kind, grain, period_start,
           coalesce(country_iso3, '*') AS country_iso3, coalesce(platform_name, '*') AS platform_name,
           count(*) AS items
    FROM marked
    WHERE uniform AND NOT seen
    GROUP BY GROUPING SETS ((kind, grain, period_start, country_iso3), (kind, grain, period_start, platform_name),
                            (kind, grain, period_start))
),
batch_cells AS (
    SELECT DISTINCT kind, grain, period_start, country_iso3, '*' AS platform_name, item, seen FROM marked
    WHERE seen OR NOT uniform
    UNION ALL
    SELECT DISTINCT kind, grain, period_start, '*', platform_name, item, seen FROM marked
    WHERE seen OR NOT uniform
    UNION ALL
    SELECT DISTINCT kind, grain, period_start, '*', '*', item, seen FROM marked
    WHERE seen OR NOT uniform
),
earlier_cells AS (
    SELECT DISTINCT kind, grain, period_start, country_iso3, '*' AS platform_name, item FROM earlier_pairs
    UNION ALL
    SELECT DISTINCT kind, grain, period_start, '*', platform_name, item FROM earlier_pairs
    UNION ALL
    SELECT DISTINCT kind, grain, period_start, '*', '*', item FROM earlier_pairs
),
new_cells AS (
    SELECT kind, grain, period_start, country_iso3, platform_name, count(*) AS items
    FROM batch_cells
    WHERE NOT seen
    GROUP BY ALL
    UNION ALL
    SELECT kind, grain, period_start, country_iso3, platform_name, count(*) AS items
    FROM (SELECT * EXCLUDE (seen) FROM batch_cells WHERE seen) AS b
    ANTI JOIN earlier_cells USING (kind, grain, period_start, country_iso3, platform_name, item)
    GROUP BY ALL
    UNION ALL
    SELECT * FROM uniform_counts
    UNION ALL
    SELECT * FROM single_counts
),
final AS (
    SELECT grain, period_start, country_iso3, platform_name,
           CAST(coalesce(sum(items) FILTER (WHERE kind = 'accounts'), 0) AS BIGINT) AS accounts,
           CAST(coalesce(sum(items) FILTER (WHERE kind = 'clusters'), 0) AS BIGINT) AS clusters
    FROM new_cells
    GROUP BY ALL
)
SELECT * FROM final
