-- How far a warehouse's data reach beyond their last date: a hub warehouse of monthly releases dates each
-- month on its first day and records in warehouse_meta `covered_until`, the last day of its latest month
-- (warehouse/grain.py), so that month counts as whole. NULL for every other warehouse. A CTE named
-- `covered` (column `until`) followed by a comma: include it with `-- @include covered_until` in a WITH.
covered AS (
    SELECT max(TRY_CAST(value AS DATE)) AS until
    FROM warehouse_meta
    WHERE key = 'covered_until'
),
