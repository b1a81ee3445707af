-- One series' forecast in the latest run (or the one named): the chosen model's points with their
-- prediction interval (calibrated on the backtest errors when calibration_factor is set), backtest MASE,
-- the measured coverage of the model's own and of the calibrated interval, and — for the total and the
-- countries — the reconciled values (total = sum of countries) next to them.
-- Parameters: $run_id VARCHAR ('' = latest); $series_id VARCHAR (metric|grain|split_by|entity).
WITH params AS (
    SELECT CAST($run_id AS VARCHAR) AS run_id, CAST($series_id AS VARCHAR) AS series_id
),

-- @include chosen_run

base AS (
    SELECT f.*
    FROM analytics_forecast AS f
    JOIN chosen AS c ON c.run_id = f.run_id
    CROSS JOIN params AS p
    WHERE f.series_id = p.series_id
),

final AS (
    SELECT b.series_id, b.date, b.yhat, b.yhat_lower, b.yhat_upper, b.level, b.model, b.backtest_mase,
           b.backtest_coverage, b.backtest_calibrated_coverage, b.calibration_factor, r.yhat AS reconciled_yhat,
           r.yhat_lower AS reconciled_lower, r.yhat_upper AS reconciled_upper, r.method AS reconciliation_method,
           r.hierarchy
    FROM base AS b
    LEFT JOIN analytics_forecast_reconciled AS r
        ON r.run_id = b.run_id AND r.series_id = b.series_id AND r.date = b.date
)

SELECT series_id, date, yhat, yhat_lower, yhat_upper, level, model, backtest_mase, backtest_coverage,
       backtest_calibrated_coverage, calibration_factor, reconciled_yhat, reconciled_lower, reconciled_upper,
       reconciliation_method, hierarchy
FROM final
ORDER BY date
