-- Every candidate model's rolling-origin backtest for one series in the latest run (or the one
-- named), as `grace analyse` stored it; the chosen model is flagged.
-- Parameters: $run_id VARCHAR ('' = latest); $series_id VARCHAR (metric|grain|split_by|entity).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($series_id AS VARCHAR) AS series_id
),

-- @include chosen_run

final AS (
    SELECT c.model, c.chosen, c.folds, c.horizon, c.mase, c.mae, c.rmse, c.coverage, c.level,
           c.calibrated_coverage, c.calibration_factor
    FROM analytics_forecast_candidate AS c
    JOIN chosen AS r ON r.run_id = c.run_id
    CROSS JOIN params AS p
    WHERE c.series_id = p.series_id
)

SELECT model, chosen, folds, horizon, mase, mae, rmse, coverage, level, calibrated_coverage, calibration_factor
FROM final
ORDER BY model
