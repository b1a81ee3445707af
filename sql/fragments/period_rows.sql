-- The {rollup} rollup's rows for the days $start..$end (VARCHAR ISO dates or NULL = open, inclusive), read
-- at the coarsest grain that answers exactly: whole months (or whole ISO weeks) inside the selection from
-- rollup_{rollup}_monthly (or _weekly), the days of a partly selected first and last period from
-- rollup_{rollup}_daily. Rows keep the daily columns, `date_key` = the day or the period's first day, so a
-- reader sums or truncates them like daily rows: with coarse 'month', to months, quarters, years or a total;
-- with 'week', to ISO weeks; with 'day', every daily row is read. The host defines `rollup_choice` (column
-- `coarse`: 'day' | 'week' | 'month') first. Date bounds are written on the parameters themselves (not
-- through a CTE) so DuckDB prunes the tables' row groups by them. Include with
-- `-- @include period_rows <referral|file|perceptual>` in a WITH: a CTE named `{rollup}_rows` followed by a comma.
{rollup}_rows AS (
    -- whole months inside the selection
    SELECT x.*
    FROM rollup_{rollup}_monthly AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'month'
      AND x.date_key >= coalesce(CAST(date_trunc('month', CAST($start AS DATE) - INTERVAL 1 DAY) + INTERVAL 1 MONTH AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST(date_trunc('month', CAST($end AS DATE) + INTERVAL 1 DAY) - INTERVAL 1 DAY AS DATE), DATE '9999-12-31')
    UNION ALL BY NAME
    -- selected days before the first whole month
    SELECT x.*
    FROM rollup_{rollup}_daily AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'month'
      AND x.date_key >= coalesce(CAST($start AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST($end AS DATE), DATE '9999-12-31')
      AND x.date_key < coalesce(CAST(date_trunc('month', CAST($start AS DATE) - INTERVAL 1 DAY) + INTERVAL 1 MONTH AS DATE), DATE '0001-01-01')
    UNION ALL BY NAME
    -- selected days after the last whole month (not before the first one: a selection inside one month is
    -- read once, by the arm above)
    SELECT x.*
    FROM rollup_{rollup}_daily AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'month'
      AND x.date_key >= coalesce(CAST($start AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST($end AS DATE), DATE '9999-12-31')
      AND x.date_key > coalesce(CAST(date_trunc('month', CAST($end AS DATE) + INTERVAL 1 DAY) - INTERVAL 1 DAY AS DATE), DATE '9999-12-31')
      AND x.date_key >= coalesce(CAST(date_trunc('month', CAST($start AS DATE) - INTERVAL 1 DAY) + INTERVAL 1 MONTH AS DATE), DATE '0001-01-01')
    UNION ALL BY NAME
    -- whole weeks inside the selection
    SELECT x.*
    FROM rollup_{rollup}_weekly AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'week'
      AND x.date_key >= coalesce(CAST(date_trunc('week', CAST($start AS DATE) - INTERVAL 1 DAY) + INTERVAL 7 DAY AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST(date_trunc('week', CAST($end AS DATE) + INTERVAL 1 DAY) - INTERVAL 1 DAY AS DATE), DATE '9999-12-31')
    UNION ALL BY NAME
    -- selected days before the first whole week
    SELECT x.*
    FROM rollup_{rollup}_daily AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'week'
      AND x.date_key >= coalesce(CAST($start AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST($end AS DATE), DATE '9999-12-31')
      AND x.date_key < coalesce(CAST(date_trunc('week', CAST($start AS DATE) - INTERVAL 1 DAY) + INTERVAL 7 DAY AS DATE), DATE '0001-01-01')
    UNION ALL BY NAME
    -- selected days after the last whole week (not before the first one: a selection inside one week is
    -- read once, by the arm above)
    SELECT x.*
    FROM rollup_{rollup}_daily AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'week'
      AND x.date_key >= coalesce(CAST($start AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST($end AS DATE), DATE '9999-12-31')
      AND x.date_key > coalesce(CAST(date_trunc('week', CAST($end AS DATE) + INTERVAL 1 DAY) - INTERVAL 1 DAY AS DATE), DATE '9999-12-31')
      AND x.date_key >= coalesce(CAST(date_trunc('week', CAST($start AS DATE) - INTERVAL 1 DAY) + INTERVAL 7 DAY AS DATE), DATE '0001-01-01')
    UNION ALL BY NAME
    -- every selected day
    SELECT x.*
    FROM rollup_{rollup}_daily AS x
    CROSS JOIN rollup_choice AS c
    WHERE c.coarse = 'day'
      AND x.date_key >= coalesce(CAST($start AS DATE), DATE '0001-01-01')
      AND x.date_key <= coalesce(CAST($end AS DATE), DATE '9999-12-31')
),
