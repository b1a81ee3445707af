-- Results of `grace analyse` (analytics/warehouse_run.py): one row in analytics_run per run, and
-- the trends, change points, anomalies and forecasts it found in every series, keyed by run_id and
-- series_id (metric|grain|split_by|entity). Written in one transaction per run; the dashboard reads
-- the latest run instead of recomputing. Described in data_contracts/warehouse.yaml.

CREATE TABLE IF NOT EXISTS analytics_run (
    run_id         VARCHAR PRIMARY KEY,
    created_at     TIMESTAMP NOT NULL,
    code_version   VARCHAR NOT NULL,
    parameters     VARCHAR NOT NULL,
    series_count   BIGINT NOT NULL,
    skipped_count  BIGINT NOT NULL,
    seconds        DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics_trend (
    run_id             VARCHAR NOT NULL,
    series_id          VARCHAR NOT NULL,
    metric             VARCHAR NOT NULL,
    grain              VARCHAR NOT NULL,
    split_by           VARCHAR NOT NULL,
    entity             VARCHAR NOT NULL,
    start_date         DATE NOT NULL,
    end_date           DATE NOT NULL,
    points             INTEGER NOT NULL,
    total              DOUBLE NOT NULL,
    direction          VARCHAR NOT NULL,
    slope              DOUBLE,
    slope_per_year     DOUBLE,
    relative_slope     DOUBLE,
    p_value            DOUBLE,
    test               VARCHAR NOT NULL,
    seasonal           BOOLEAN NOT NULL,
    seasonal_strength  DOUBLE,
    trend_strength     DOUBLE,
    yoy_growth         DOUBLE,
    yoy_lower          DOUBLE,
    yoy_upper          DOUBLE,
    recent_growth      DOUBLE,
    recent_lower       DOUBLE,
    recent_upper       DOUBLE
);

CREATE TABLE IF NOT EXISTS analytics_changepoint (
    run_id           VARCHAR NOT NULL,
    series_id        VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    grain            VARCHAR NOT NULL,
    split_by         VARCHAR NOT NULL,
    entity           VARCHAR NOT NULL,
    date             DATE NOT NULL,
    level_before     DOUBLE,
    level_after      DOUBLE,
    magnitude        DOUBLE,
    relative_change  DOUBLE,
    direction        VARCHAR NOT NULL,
    confidence       DOUBLE
);

CREATE TABLE IF NOT EXISTS analytics_anomaly (
    run_id      VARCHAR NOT NULL,
    series_id   VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,
    grain       VARCHAR NOT NULL,
    split_by    VARCHAR NOT NULL,
    entity      VARCHAR NOT NULL,
    date        DATE NOT NULL,
    value       DOUBLE,
    expected    DOUBLE,
    magnitude   DOUBLE,
    relative    DOUBLE,
    direction   VARCHAR NOT NULL,
    score       DOUBLE
);

CREATE TABLE IF NOT EXISTS analytics_forecast (
    run_id             VARCHAR NOT NULL,
    series_id          VARCHAR NOT NULL,
    metric             VARCHAR NOT NULL,
    grain              VARCHAR NOT NULL,
    split_by           VARCHAR NOT NULL,
    entity             VARCHAR NOT NULL,
    date               DATE NOT NULL,
    yhat               DOUBLE,
    yhat_lower         DOUBLE,
    yhat_upper         DOUBLE,
    level              DOUBLE NOT NULL,
    model              VARCHAR NOT NULL,
    backtest_mase      DOUBLE,
    backtest_coverage  DOUBLE
);
