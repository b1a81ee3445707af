-- A hub warehouse's referrals per month read straight from the merged release cells (dp_release_cell), not
-- from the rollup: the second, independent path a report checks its numbers on (reporting/releases.py).
-- Only the noisy counts the agencies showed are summed; a cell they suppressed counts nowhere (never as 0).
-- A month whose every cell in the selection was suppressed has no row.
-- Parameters: $countries, $platforms VARCHAR[] (empty list: every one).
WITH params AS (
    SELECT CAST($countries AS VARCHAR[]) AS countries, CAST($platforms AS VARCHAR[]) AS platforms
),

shown AS (
    SELECT c.month, c.referrals
    FROM dp_release_cell AS c
    CROSS JOIN params AS p
    WHERE NOT c.suppressed
      AND (len(p.countries) = 0 OR list_contains(p.countries, c.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, c.platform_name))
),

final AS (
    SELECT month AS ds, CAST(sum(referrals) AS DOUBLE) AS y
    FROM shown
    GROUP BY month
)

SELECT ds, y
FROM final
ORDER BY ds
