-- This batch's accounts (on its new referrals) and media clusters (on its files), one row per
-- referral or file occurrence, flagged `fresh` when no earlier batch has the item (a new
-- cluster, an account never reported before) and `single` when the item is fresh and has this
-- one row in the batch (mart_distinct_increments counts those without de-duplicating per cell).
-- An account is fresh when account_first_report had no row for it before this batch
-- (batch_new_accounts), which holds a row for every account an earlier batch loaded.
WITH batch_rows AS (
    SELECT 'accounts' AS kind, r.incident_date, r.country_iso3, r.platform_name, r.account_pseudonym AS item,
           r.account_pseudonym IN (SELECT account_pseudonym FROM batch_new_accounts) AS fresh
    FROM new_referrals AS r
    WHERE r.account_pseudonym IS NOT NULL
    UNION ALL
    SELECT 'clusters' AS kind, incident_date, country_iso3, platform_name, cluster_id AS item, is_new_cluster AS fresh
    FROM batch_clustered
),
per_item AS (  -- an aggregate joined back: cheaper than the same figures as window functions
    SELECT kind, item, count(*) AS batch_rows
    FROM batch_rows
    GROUP BY kind, item
),
final AS (
    SELECT b.kind, b.incident_date, b.country_iso3, b.platform_name, b.item, b.fresh,
           b.fresh AND p.batch_rows = 1 AS single
    FROM batch_rows AS b
    JOIN per_item AS p ON p.kind = b.kind AND p.item IS NOT DISTINCT FROM b.item
)
SELECT * FROM final
