-- The differentially private releases a hub warehouse holds (federation/hub_warehouse.py), in one row, for
-- the marking every page header and export carries: how many releases from how many agencies, the range of
-- ε and k, the cells suppressed by the agencies, the months covered and the latest merge. `releases` = 0 on
-- every other warehouse. No parameters.
WITH releases AS (
    SELECT *
    FROM dp_release
),

final AS (
    SELECT
        CAST(count(*) AS BIGINT) AS releases,
        CAST(count(DISTINCT agency_code) AS BIGINT) AS agencies,
        min(epsilon) AS epsilon_min,
        max(epsilon) AS epsilon_max,
        max(delta) AS delta_max,
        min(k) AS k_min,
        max(k) AS k_max,
        CAST(coalesce(sum(cells), 0) AS BIGINT) AS cells,
        CAST(coalesce(sum(suppressed_cells), 0) AS BIGINT) AS suppressed_cells,
        min(month) AS first_month,
        max(month) AS last_month,
        max(received_at) AS last_received_at
    FROM releases
)

SELECT releases, agencies, epsilon_min, epsilon_max, delta_max, k_min, k_max, cells, suppressed_cells,
       first_month, last_month, last_received_at
FROM final
