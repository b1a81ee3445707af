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
    seconds        DOUBLE NOT NULL,
    -- What the run found, counted when it is written (sql/analytics/run_counts.sql), so that reading the
    -- latest run does not count rows of every run's result tables.
    finding_count               BIGINT,
    changepoint_count           BIGINT,
    anomaly_count               BIGINT,
    emerging_or_vanishing_count BIGINT
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
    backtest_coverage  DOUBLE,  -- share of backtest actuals inside the model's own interval
    -- the interval stored here is the model's scaled by calibration_factor (split-conformal on the
    -- backtest errors; NULL: the model's own); its coverage measured on later folds, calibrated on earlier ones
    backtest_calibrated_coverage DOUBLE,
    calibration_factor DOUBLE
);

-- Every candidate model's rolling-origin backtest per series (the chosen one flagged), so the
-- dashboard can show why a model was chosen without refitting.
CREATE TABLE IF NOT EXISTS analytics_forecast_candidate (
    run_id             VARCHAR NOT NULL,
    series_id          VARCHAR NOT NULL,
    metric             VARCHAR NOT NULL,
    grain              VARCHAR NOT NULL,
    split_by           VARCHAR NOT NULL,
    entity             VARCHAR NOT NULL,
    model              VARCHAR NOT NULL,
    chosen             BOOLEAN NOT NULL,
    folds              INTEGER NOT NULL,
    horizon            INTEGER NOT NULL,
    mase               DOUBLE,
    mae                DOUBLE,
    rmse               DOUBLE,
    coverage           DOUBLE,
    level              DOUBLE NOT NULL,
    calibrated_coverage DOUBLE,
    calibration_factor DOUBLE
);

-- Derived per run (analytics/warehouse_derived.py) from the series results above, in the same
-- transaction: entity statuses of every split panel, the attribution of the total's anomalies,
-- forecasts reconciled so that the total equals the sum of the countries, the backlog projection
-- of the total's referrals, and the ranked narrative findings (analytics/narrative.py).

CREATE TABLE IF NOT EXISTS analytics_entity_status (
    run_id           VARCHAR NOT NULL,
    series_id        VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    grain            VARCHAR NOT NULL,
    split_by         VARCHAR NOT NULL,
    entity           VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,
    baseline_start   DATE NOT NULL,
    baseline_end     DATE NOT NULL,
    recent_start     DATE NOT NULL,
    recent_end       DATE NOT NULL,
    baseline_mean    DOUBLE NOT NULL,
    recent_mean      DOUBLE NOT NULL,
    growth           DOUBLE,
    baseline_share   DOUBLE,
    recent_share     DOUBLE,
    parameters       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics_attribution (
    run_id        VARCHAR NOT NULL,
    series_id     VARCHAR NOT NULL,
    metric        VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    date          DATE NOT NULL,
    by_dimension  VARCHAR NOT NULL,
    rank          INTEGER NOT NULL,
    contributor   VARCHAR NOT NULL,
    value         DOUBLE,
    expected      DOUBLE,
    excess        DOUBLE,
    share         DOUBLE
);

CREATE TABLE IF NOT EXISTS analytics_forecast_reconciled (
    run_id      VARCHAR NOT NULL,
    series_id   VARCHAR NOT NULL,
    metric      VARCHAR NOT NULL,
    grain       VARCHAR NOT NULL,
    split_by    VARCHAR NOT NULL,
    entity      VARCHAR NOT NULL,
    date        DATE NOT NULL,
    base_yhat   DOUBLE,
    yhat        DOUBLE,
    yhat_lower  DOUBLE,
    yhat_upper  DOUBLE,
    level       DOUBLE NOT NULL,
    hierarchy   VARCHAR NOT NULL,
    method      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics_backlog (
    run_id            VARCHAR NOT NULL,
    series_id         VARCHAR NOT NULL,
    metric            VARCHAR NOT NULL,
    grain             VARCHAR NOT NULL,
    date              DATE NOT NULL,
    arrivals          DOUBLE,
    capacity          DOUBLE,
    backlog           DOUBLE,
    backlog_lower     DOUBLE,
    backlog_upper     DOUBLE,
    p_growing         DOUBLE,
    level             DOUBLE NOT NULL,
    capacity_per_day  DOUBLE NOT NULL,
    initial_backlog   DOUBLE NOT NULL,
    arrivals_source   VARCHAR NOT NULL,
    parameters        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics_finding (
    run_id        VARCHAR NOT NULL,
    rank          INTEGER NOT NULL,
    score         DOUBLE NOT NULL,
    kind          VARCHAR NOT NULL,
    series_id     VARCHAR NOT NULL,
    metric        VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    split_by      VARCHAR NOT NULL,
    entity        VARCHAR NOT NULL,
    date          DATE,
    end_date      DATE,
    headline      VARCHAR NOT NULL,
    numbers       VARCHAR NOT NULL,
    detector      VARCHAR NOT NULL,
    source_table  VARCHAR NOT NULL,
    parameters    VARCHAR NOT NULL
);

-- Every alert of a run in one shape, whichever detector raised it (analytics/detectors.py): change
-- points, anomalies and emerging / vanishing entities so far. The Alerts page reads only this table.
-- alert_key (series_id|kind|date) names the same alert in every run; material and is_new say whether it
-- needs attention (analytics/alerting.py).
CREATE TABLE IF NOT EXISTS analytics_alert (
    run_id     VARCHAR NOT NULL,
    series_id  VARCHAR NOT NULL,
    metric     VARCHAR NOT NULL,
    grain      VARCHAR NOT NULL,
    split_by   VARCHAR NOT NULL,
    entity     VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,
    date       DATE NOT NULL,
    direction  VARCHAR NOT NULL,
    before     DOUBLE,
    after      DOUBLE,
    relative   DOUBLE,
    strength   DOUBLE,
    alert_key  VARCHAR NOT NULL,
    material   BOOLEAN,  -- the run's materiality rule (analytics/alerting.py); NULL: copied from schema 3
    is_new     BOOLEAN,  -- not among the alerts of the series' previous run; NULL: copied from schema 3
    subject    VARCHAR   -- what in the series the alert is about: a 'drift' alert's feature, or 'score'; else NULL
);

-- The active triage model's monitoring (classification/monitoring.py), per run, when a model is active:
-- per received week, the PSI of every feature ('feature_psi', feature = its name) and of the score
-- ('score_psi') against the model's training / test windows with the PSI expected by chance (noise) and
-- the drifted flag; the ECE, mean predicted and observed rate on the labels known now ('ece', 'predicted',
-- 'observed'; referrals = labelled referrals) and on the analysts' reviewed labels when there are any
-- ('ece_reviewed'); and the reliability curve of the latest full quarter ('reliability_predicted',
-- 'reliability_observed': week = the quarter's first day, feature = the probability bin, e.g. '0.3-0.4',
-- referrals = labelled referrals in the bin). Drifted weeks become 'drift' alerts in analytics_alert.
CREATE TABLE IF NOT EXISTS analytics_model_monitor (
    run_id         VARCHAR NOT NULL,
    model_version  VARCHAR NOT NULL,
    week           DATE NOT NULL,
    measure        VARCHAR NOT NULL,
    feature        VARCHAR,
    value          DOUBLE,
    noise          DOUBLE,
    referrals      BIGINT NOT NULL,
    drifted        BOOLEAN
);
