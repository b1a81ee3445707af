-- What this batch adds to the distinct counts of mart_distinct_period: per grain, period and cell
-- (EU total, per country, per platform; '*' = all), the accounts and media clusters the batch
-- brings into that cell that no earlier batch had put there. Facts are only ever added, so a
-- cell's distinct count grows by exactly these, and the cost follows the batch's size, not the
-- warehouse's.
--   * an item never seen before (new cluster, first-time account) with one row in the batch is
--     new in each of its cells: a plain count per cell, no de-duplication;
--   * every other batch row, per grain and period, is tagged `in_batch`, and the rows of earlier
--     batches are added for the items seen before, only in the periods where this batch has the
--     same item; an (item, cell) is new when all its tagged rows are this batch's (bool_and). One
--     grouping per kind of cell (country, platform, total) reads the tagged rows, materialised once,
--     whose kind and grain are a boolean and a small code (narrow keys hash faster than text).
-- Reads mart_batch_items (this batch's accounts and clusters, flagged); parameter: $batch_id.
WITH grains AS (
    SELECT CAST(code AS UTINYINT) AS code, grain
    FROM (VALUES (1, 'day'), (2, 'week'), (3, 'month'), (4, 'quarter'), (5, 'year')) AS g (code, grain)
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
span AS (  -- the dates of every period (of any grain) holding a batch row of an item seen before; a week
           -- can begin in one year and end in the next, so the span covers both ends' weeks and years
    SELECT least(date_trunc('year', min(incident_date)), date_trunc('week', min(incident_date)))::DATE AS first_day,
           greatest(date_trunc('year', max(incident_date)) + INTERVAL 1 YEAR,
                    date_trunc('week', max(incident_date)) + INTERVAL 7 DAY)::DATE - 1 AS last_day
    FROM mart_batch_items
    WHERE NOT fresh
),
earlier_rows AS (  -- only rows inside the span can share a period with the batch's row of the same item;
                   -- the facts are stored in date order, so the span skips most of their row groups
    SELECT true AS is_account, incident_date, country_iso3, platform_name, account_pseudonym AS item
    FROM fact_referral
    WHERE batch_id <> $batch_id
      AND incident_date BETWEEN (SELECT first_day FROM span) AND (SELECT last_day FROM span)
      AND account_pseudonym IN (SELECT item FROM mart_batch_items WHERE kind = 'accounts' AND NOT fresh)
    UNION ALL
    SELECT false AS is_account, incident_date, country_iso3, platform_name, cluster_id AS item
    FROM fact_file_occurrence
    WHERE batch_id <> $batch_id
      AND incident_date BETWEEN (SELECT first_day FROM span) AND (SELECT last_day FROM span)
      AND cluster_id IN (SELECT item FROM mart_batch_items WHERE kind = 'clusters' AND NOT fresh)
),
batch_pairs AS (  -- every other batch row once per grain
    SELECT r.kind = 'accounts' AS is_account, g.code, CAST(date_trunc(g.grain, r.incident_date) AS DATE) AS period_start,
           r.country_iso3, r.platform_name, r.item, r.fresh
    FROM mart_batch_items AS r
    CROSS JOIN grains AS g
    WHERE NOT r.single
),
earlier_pairs AS (  -- earlier rows only matter in the periods where this batch has the same item
    SELECT e.*
    FROM (SELECT r.is_account, g.code, CAST(date_trunc(g.grain, r.incident_date) AS DATE) AS period_start,
                 r.country_iso3, r.platform_name, r.item
          FROM earlier_rows AS r
          CROSS JOIN grains AS g) AS e
    SEMI JOIN (SELECT is_account, code, period_start, item FROM batch_pairs WHERE NOT fresh) AS b
         USING (is_account, code, period_start, item)
),
tagged AS MATERIALIZED (
    SELECT is_account, code, period_start, country_iso3, platform_name, item, true AS in_batch FROM batch_pairs
    UNION ALL
    SELECT is_account, code, period_start, country_iso3, platform_name, item, false AS in_batch FROM earlier_pairs
),
cells AS (  -- each (item, cell) once; NULL country or platform = the cell spans all of them
    SELECT is_account, code, period_start, country_iso3, NULL AS platform_name, bool_and(in_batch) AS new
    FROM tagged
    GROUP BY is_account, code, period_start, country_iso3, item
    UNION ALL
    SELECT is_account, code, period_start, NULL AS country_iso3, platform_name, bool_and(in_batch) AS new
    FROM tagged
    GROUP BY is_account, code, period_start, platform_name, item
    UNION ALL
    SELECT is_account, code, period_start, NULL AS country_iso3, NULL AS platform_name, bool_and(in_batch) AS new
    FROM tagged
    GROUP BY is_account, code, period_start, item
),
new_cells AS (
    SELECT CASE WHEN c.is_account THEN 'accounts' ELSE 'clusters' END AS kind, g.grain, c.period_start,
           coalesce(c.country_iso3, '*') AS country_iso3, coalesce(c.platform_name, '*') AS platform_name,
           count(*) AS items
    FROM cells AS c
    JOIN grains AS g USING (code)
    WHERE c.new
    GROUP BY ALL
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
