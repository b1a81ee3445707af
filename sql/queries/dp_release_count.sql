-- How many differentially private releases the warehouse holds (0 on every agency's warehouse): the cheap
-- check made before `dp_release_summary`, whose one-row, twelve-column frame every chart and page header
-- would otherwise build (dashboards/freshness.py `release_summary`). No parameters.
WITH final AS (
    SELECT CAST(count(*) AS BIGINT) AS releases
    FROM dp_release
)

SELECT releases
FROM final
