-- Files matching a hash bank per period and category code, from rollup_perceptual_daily and its
-- weekly and monthly copies (never the facts):
--   files              : file occurrences of the category in the selection
--   bank_matched_files : those whose media cluster matches an enabled entry of a positive hash bank
--                        (not suppressed by a negative bank); 0 until a bank is imported
-- The category is the file's own category code (`category_code`), not the bank entry's.
-- Parameters: $countries, $platforms VARCHAR[] (empty list = no filter; a scoped user's countries come
--             in $countries), $start, $end VARCHAR ISO dates or NULL (inclusive), $grain VARCHAR
--             ('week' | 'month' | 'quarter' | 'year').
-- One row per period (between the first and the last with files) and category with files in the
-- selection; a category without files in a period has no row.
WITH params AS (
    SELECT
        CAST($countries AS VARCHAR[]) AS countries,
        CAST($platforms AS VARCHAR[]) AS platforms,
        CAST($start AS DATE) AS start_date,
        CAST($end AS DATE) AS end_date,
        CAST($grain AS VARCHAR) AS grain
),

rollup_choice AS (
    SELECT CASE p.grain WHEN 'week' THEN 'week' WHEN 'day' THEN 'day' ELSE 'month' END AS coarse
    FROM params AS p
),

-- @include period_rows perceptual

selected AS (
    SELECT
        CAST(date_trunc(p.grain, r.date_key) AS DATE) AS period,
        r.category_code,
        sum(r.files) AS files,
        sum(r.bank_matched_files) AS bank_matched_files
    FROM perceptual_rows AS r
    CROSS JOIN params AS p
    WHERE (len(p.countries) = 0 OR list_contains(p.countries, r.country_iso3))
      AND (len(p.platforms) = 0 OR list_contains(p.platforms, r.platform_name))
    GROUP BY 1, 2
),

final AS (
    SELECT
        period,
        category_code,
        CAST(files AS BIGINT) AS files,
        CAST(bank_matched_files AS BIGINT) AS bank_matched_files
    FROM selected
    WHERE files > 0
)

SELECT
    period,
    category_code,
    files,
    bank_matched_files,
    bank_matched_files / files AS bank_match_share
FROM final
ORDER BY period, category_code
