-- Values offered by the Trend explorer's channel, incident-type and category filters.
-- No parameters. Incident types and categories come from their (small) dimension tables, named
-- by code only; channels from the referral rollup (a handful of distinct values).
-- One row per (dimension, value), ordered for display.
WITH channels AS (
    SELECT DISTINCT 'channel' AS dimension, channel AS value, channel AS label
    FROM rollup_referral_daily
),

incident_types AS (
    SELECT 'incident_type' AS dimension, incident_type_code AS value, incident_type_code AS label
    FROM dim_incident_type
),

categories AS (
    SELECT 'category' AS dimension, category_code AS value,
           category_code || ' (' || category_scheme || ')' AS label
    FROM dim_category
),

final AS (
    SELECT * FROM channels
    UNION ALL
    SELECT * FROM incident_types
    UNION ALL
    SELECT * FROM categories
)

SELECT dimension, value, label
FROM final
ORDER BY dimension, value
