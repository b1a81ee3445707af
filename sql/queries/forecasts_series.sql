-- The Forecasts page's view of one analysed series in the latest `grace analyse` run (or the one
-- named): the run (id, time, parameters as JSON text) and, when the run analysed the series, its
-- calendar (first and last period, number of periods) and whether it was found seasonal — what a
-- backtest of the candidate models needs to be repeated exactly. No row when there is no run; one
-- row with NULL series columns when the run did not analyse the series.
-- Parameters: $run_id VARCHAR ('' = latest); $series_id VARCHAR (metric|grain|split_by|entity).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($series_id AS VARCHAR) AS series_id
),

-- @include chosen_run

final AS (
    SELECT c.run_id, c.created_at, c.parameters, t.series_id, t.start_date, t.end_date, t.points, t.seasonal,
           t.total
    FROM chosen AS c
    CROSS JOIN params AS p
    LEFT JOIN analytics_trend AS t ON t.run_id = c.run_id AND t.series_id = p.series_id
)

SELECT run_id, created_at, parameters, series_id, start_date, end_date, points, seasonal, total
FROM final
