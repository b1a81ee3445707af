-- One published yearly figure, read again on its own: the check of a number a report prints next to the
-- warehouse's own count (the comparison's query is `report_published_figures`).
-- Parameters: $year INTEGER, $country VARCHAR (ISO-3), $metric VARCHAR, $source VARCHAR.
WITH params AS (
    SELECT
        CAST(CAST($year AS INTEGER) AS VARCHAR) AS period,
        CAST($country AS VARCHAR) AS country_iso3,
        CAST($metric AS VARCHAR) AS metric,
        CAST($source AS VARCHAR) AS source
),

final AS (
    SELECT s.value
    FROM published_statistic AS s
    JOIN params AS p
        ON s.period = p.period AND s.country_iso3 = p.country_iso3 AND s.metric = p.metric AND s.source = p.source
    WHERE s.period_type = 'year' AND s.platform IS NULL
)

SELECT value
FROM final
