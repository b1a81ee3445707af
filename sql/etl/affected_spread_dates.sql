-- Dates whose cross-border counts this batch changes: the old and new second-country dates of
-- the clusters it saw.
WITH final AS (
    SELECT DISTINCT reached_date AS date_key
    FROM cluster_spread
    WHERE cluster_id IN (SELECT DISTINCT cluster_id FROM batch_reach)
    UNION
    SELECT DISTINCT reached_date FROM batch_cluster_spread
)
SELECT * FROM final
