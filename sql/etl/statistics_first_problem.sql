-- The first problem of a refused published-statistics file (lowest row, then the field's
-- position in the contract, $fields; field checks before rules), with the number of problems
-- and of rows affected.
WITH totals AS (
    SELECT count(*) AS problems, count(DISTINCT row_number) AS bad_rows
    FROM statistics_problems
),
first_problem AS (
    SELECT row_number, field, reason, detail
    FROM statistics_problems
    ORDER BY row_number NULLS FIRST, coalesce(list_position($fields, field), 0),
             detail LIKE 'rule %', reason
    LIMIT 1
),
final AS (
    SELECT p.row_number, p.field, p.reason, p.detail, t.problems, t.bad_rows
    FROM first_problem AS p
    CROSS JOIN totals AS t
)
SELECT * FROM final
