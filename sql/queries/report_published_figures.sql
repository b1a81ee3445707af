-- Published yearly figures (imported by `grace import statistics`) for the report's comparison with
-- published figures: one row per year, country, metric and source, for the countries of the report's
-- scope, up to a last year. Figures for a platform, and totals without a country, are left out: the
-- comparison is made country by country (the EU-27 as the sum of its countries).
-- Parameters: $metrics VARCHAR[] (published metric codes), $countries VARCHAR[] (ISO-3), $last_year INTEGER.
WITH params AS (
    SELECT
        CAST($metrics AS VARCHAR[]) AS metrics,
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($last_year AS INTEGER) AS last_year
),

yearly AS (
    SELECT CAST(s.period AS INTEGER) AS year, s.country_iso3, s.metric, s.source, s.value, s.note
    FROM published_statistic AS s
    CROSS JOIN params AS p
    WHERE s.period_type = 'year'
      AND s.platform IS NULL
      AND s.country_iso3 IS NOT NULL
      AND list_contains(p.metrics, s.metric)
      AND list_contains(p.countries, s.country_iso3)
),

final AS (
    SELECT y.year, y.country_iso3, y.metric, y.source, y.value, y.note
    FROM yearly AS y
    CROSS JOIN params AS p
    WHERE y.year <= p.last_year
)

SELECT year, country_iso3, metric, source, value, note
FROM final
ORDER BY year DESC, metric, source, country_iso3
