"""Parameters and results of every detector and forecast, as plain dataclasses.

Each result can be turned into JSON-ready Python values with `to_dict()` (dates as ISO strings,
numbers as floats with at most 12 significant digits, NaN and infinity as null), so the CLI prints
them and `grace analyse` can later persist them together with the parameters that produced them.
Parameter dataclasses are frozen: a run is described completely by its parameters and the code
version (`analytics.__version__`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Turn dataclasses, frames, timestamps and numpy scalars into JSON-ready Python values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [jsonable(row) for row in value.to_dict(orient="records")]
    if isinstance(value, (pd.Timestamp, datetime)):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return float(f"{number:.12g}")
    if value is None or isinstance(value, str):
        return value
    if value is pd.NaT:
        return None
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendParams(_Serialisable):
    """Mann-Kendall trend test.

    alpha: significance level for calling a trend "increasing"/"decreasing".
    autocorrelation: for non-seasonal series, "hamed_rao" corrects the test's variance for serial
        correlation (fewer false trends on autocorrelated counts); "none" is the original test.
    seasonal_alpha: Kruskal-Wallis level for calling a series seasonal (then the seasonal
        Mann-Kendall test of Hirsch et al. is used, comparing each season with itself).
    """

    alpha: float = 0.05
    autocorrelation: str = "hamed_rao"
    seasonal_alpha: float = 0.01


@dataclass(frozen=True)
class ChangePointParams(_Serialisable):
    """Structural breaks by binary segmentation ("binseg", default) or PELT ("pelt", exact, slower).

    The cost is piecewise-linear least squares (a level shift *or* a slope change starts a new
    segment; a steady trend does not). Penalty per break = penalty_factor * sigma^2 * ln(n), with
    sigma the robust (Qn) noise scale of the first differences. penalty_factor 3 would be BIC's
    ln(n) per estimated parameter (intercept, slope, location); the default 8 was chosen by
    simulation to keep false breaks rare under serially correlated noise (see analytics.changepoints).
    Spikes are neutralised first (Hampel filter, `outlier_threshold` robust z) so a one-off spike is
    an anomaly, not two breaks. Breaks with a Chow-type confidence below `min_confidence` are dropped.
    min_size: periods needed on each side of a break (3: a break shows up after three periods of the
    new regime; before that its periods are reported as anomalies).
    """

    penalty_factor: float = 8.0
    min_size: int = 3
    outlier_threshold: float = 3.5
    search: str = "binseg"
    min_confidence: float = 0.95


@dataclass(frozen=True)
class AnomalyParams(_Serialisable):
    """Spikes and dips: robust z of the residual from trend + seasonality (+ known level shifts).

    threshold: |robust z| at or above which a point is flagged (3.5, Iglewicz & Hoaglin).
    min_relative: also require |value - expected| >= min_relative * |expected| (0 = off).
    """

    threshold: float = 3.5
    min_relative: float = 0.0


@dataclass(frozen=True)
class ForecastParams(_Serialisable):
    """Forecast models, rolling-origin backtest and prediction intervals.

    models: candidates, cheapest first (ties go to the earlier one). The default set: seasonal naive,
        drift, Theta, the autoregressive ARIMA search, the ETS search by AICc, the same on log(y + 1)
        and their combination (together ~10 ms per fit on a monthly series); "theta_log",
        "ets_damped", "sarima" (~0.15 s) and "prophet" (~0.15-0.5 s per fit) are opt-in. Expensive
        candidates are skipped where they cannot pay off (cost rules) — see analytics.forecast.
    prophet_min_days: daily series at least this long also try Prophet (0 = never automatically).
    folds: rolling origins; each tests a block of `backtest horizon` = min(horizon, n // 4) points.
    level: nominal coverage of the prediction intervals; the measured coverage is reported.
    calibration_origins: rolling origins per backtest block whose errors calibrate the intervals
        (split-conformal, see analytics.forecast): 1 = the backtest folds only, 2 (default) adds one
        origin midway through each block (one more fit per fold and model), 0 = no calibration (the
        models' own intervals).
    calibration_history: further blocks before the first backtest fold (at most this many, each with at
        least 4 blocks and two seasons of data before it) from which the chosen model alone also
        forecasts, so that its calibration also holds errors from earlier periods that took no part in
        the choice (0 = none; see analytics.forecast).
    """

    horizon: int = 12
    models: tuple[str, ...] = ("seasonal_naive", "drift", "theta", "arima", "ets", "ets_log", "combo")
    folds: int = 3
    level: float = 0.8
    calibration_origins: int = 2
    calibration_history: int = 24
    seed: int = 0
    nonnegative: bool = True
    prophet_min_days: int = 730


@dataclass(frozen=True)
class EmergingParams(_Serialisable):
    """Emerging / vanishing / dropping / rising entities, comparing a recent window with the baseline
    window just before it (window lengths in periods; None = a default per frequency).

    emerging: recent mean >= growth_factor x baseline mean, from a low base (baseline share of the
        panel <= max_base_share), now material (recent mean >= min_level) and sustained (at least
        half of the recent periods above growth_factor x baseline).
    vanishing: was material (baseline mean >= min_level), recent mean <= vanish_fraction x baseline,
        and near zero: recent mean <= near_zero_level or recent share of the panel <= near_zero_share.
        A large drop that leaves a large volume is a drop, not a vanishing.
    dropping: recent mean <= (1 - drop_fraction) x baseline, not vanishing; rising: recent mean >=
        (1 + rise_fraction) x baseline, not emerging.
    """

    recent_periods: int | None = None
    baseline_periods: int | None = None
    growth_factor: float = 3.0
    max_base_share: float = 0.05
    min_level: float = 5.0  # per month; scaled to the period length (analytics.emerging.level_per_period)
    vanish_fraction: float = 0.1
    near_zero_level: float = 1.0
    near_zero_share: float = 0.005
    drop_fraction: float = 0.5
    rise_fraction: float = 0.5


@dataclass(frozen=True)
class AlertParams(_Serialisable):
    """When an alert is material: worth an analyst's attention, not only statistically unusual.

    An alert (anomaly, change point, emerging or vanishing entity) is material when its relative change
    |after / before - 1| is at least `min_relative` AND its absolute change |after - before| is at least
    `min_count_change` for counts, stocks and distinct counts (per period; below the small-cell threshold
    k = 10 a change could not even be published), or `min_share_change` for shares and ratios (0.02 = two
    percentage points). Other units (days) take the relative rule alone. An alert from or to zero counts
    as relative change 1. Immaterial alerts are stored and can be listed; the Alerts page and the
    Overview show the material ones that still need attention.
    """

    min_relative: float = 0.2
    min_count_change: float = 10.0
    min_share_change: float = 0.02


@dataclass(frozen=True)
class AnalysisParams(_Serialisable):
    """Everything one series or panel analysis depends on."""

    trend: TrendParams = field(default_factory=TrendParams)
    changepoints: ChangePointParams = field(default_factory=ChangePointParams)
    anomalies: AnomalyParams = field(default_factory=AnomalyParams)
    forecast: ForecastParams = field(default_factory=ForecastParams)
    emerging: EmergingParams = field(default_factory=EmergingParams)
    alerts: AlertParams = field(default_factory=AlertParams)
    growth_level: float = 0.9


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seasonality(_Serialisable):
    """Whether a series is seasonal, and how strongly (Wang, Smith & Hyndman strengths in [0, 1])."""

    season_length: int
    seasonal: bool
    seasonal_strength: float | None
    trend_strength: float | None
    p_value: float | None
    method: str


@dataclass(frozen=True)
class TrendResult(_Serialisable):
    """Mann-Kendall direction with Sen's slope in units per period (`unit`)."""

    direction: str
    slope: float
    p_value: float
    test: str
    tau: float
    z: float
    unit: str
    slope_per_year: float
    relative_slope: float | None
    n: int
    alpha: float


@dataclass(frozen=True)
class GrowthResult(_Serialisable):
    """Growth of the `window` periods ending at `date` over the same-length window `lag` periods earlier."""

    date: pd.Timestamp
    window: int
    lag: int
    current: float
    previous: float
    growth: float | None
    lower: float | None
    upper: float | None
    level: float


@dataclass(frozen=True)
class ChangePoint(_Serialisable):
    """A structural break: the first period of the new regime and the fitted levels either side."""

    date: pd.Timestamp
    index: int
    level_before: float
    level_after: float
    magnitude: float
    relative_change: float | None
    direction: str
    slope_before: float
    slope_after: float
    mean_before: float
    mean_after: float
    confidence: float


@dataclass(frozen=True)
class ChangePointResult(_Serialisable):
    changepoints: tuple[ChangePoint, ...]
    method: str
    penalty: float
    sigma: float
    deseasonalised: bool


@dataclass(frozen=True)
class Contribution(_Serialisable):
    """One entity's part in an anomaly: its excess over its expected value and share of the total excess."""

    entity: str
    value: float
    expected: float
    excess: float
    share: float | None


@dataclass(frozen=True)
class Anomaly(_Serialisable):
    date: pd.Timestamp
    index: int
    value: float
    expected: float
    magnitude: float
    relative: float | None
    direction: str
    score: float
    attribution: tuple[Contribution, ...] = ()


@dataclass(frozen=True)
class ForecastPoint(_Serialisable):
    date: pd.Timestamp
    yhat: float
    yhat_lower: float
    yhat_upper: float


@dataclass(frozen=True)
class Backtest(_Serialisable):
    """Rolling-origin backtest of one model: errors averaged over folds; coverage over all test points.

    coverage: share of the backtest actuals inside the model's own intervals (nominal `level`).
    calibrated_coverage: share of the actuals of every fold but the first (for the chosen model, every
        fold its calibration history reaches) inside the calibrated interval, each fold calibrated only
        on the errors of actuals observed before its origin (an
        honest measure: never on the errors it is calibrated with); None when no fold could be
        calibrated (too few earlier errors, or calibration off).
    calibration_factor: what the model's interval half-widths are multiplied by when this model is
        chosen (the conformal quantile of every calibration error; in `forecast`, errors free of the
        model choice: each fold's actuals against the model chosen without that fold, and for the
        chosen model its own errors at the calibration-history origins before the folds, see
        analytics.forecast); None when uncalibrated.
    calibration_points: the calibration errors behind that factor.
    """

    model: str
    folds: int
    horizon: int
    mase: float | None
    mae: float
    rmse: float
    coverage: float
    level: float
    calibrated_coverage: float | None = None
    calibration_factor: float | None = None
    calibration_points: int = 0
    # fold x step errors (actual - forecast), kept for reconciliation; not serialised
    errors: np.ndarray | None = field(default=None, repr=False, compare=False)
    # MASE of each fold, kept for the selection-honest calibration (analytics.forecast); not serialised
    fold_mase: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ForecastResult(_Serialisable):
    """The chosen model's forecast. interval: "calibrated" (the model's interval scaled by its
    backtest's `calibration_factor`) or "model" (the model's own interval: calibration off, or too
    few backtest errors for the level)."""

    model: str
    backtest: Backtest
    candidates: tuple[Backtest, ...]
    forecast: tuple[ForecastPoint, ...]
    level: float
    notes: tuple[str, ...] = ()
    interval: str = "model"
    spec: str = ""  # the fitted model for people, e.g. "ETS(M,Ad,M)", "mean of ETS(A,A,A), Theta"
    transform: str = "none"  # "log": fitted to log(y + 1); "mixed": a combination with log members

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [dataclasses.asdict(p) for p in self.forecast], columns=["date", "yhat", "yhat_lower", "yhat_upper"]
        )


@dataclass(frozen=True)
class EntityStatus(_Serialisable):
    entity: str
    status: str
    baseline_mean: float
    recent_mean: float
    ratio: float | None
    baseline_share: float | None
    recent_share: float | None


@dataclass(frozen=True)
class SeriesAnalysis(_Serialisable):
    """Everything `analyse_series` finds in one series."""

    freq: str
    start: pd.Timestamp
    end: pd.Timestamp
    n: int
    seasonality: Seasonality
    trend: TrendResult
    growth: dict[str, GrowthResult | None]
    changepoints: ChangePointResult
    anomalies: tuple[Anomaly, ...]
    forecast: ForecastResult | None
    parameters: AnalysisParams
    notes: tuple[str, ...] = ()
    detections: dict[str, Any] = field(default_factory=dict)  # results of detectors registered after the built-ins

    def to_dict(self) -> dict[str, Any]:
        """The `grace series analyse --json` object."""
        from grace import __version__

        forecast = self.forecast
        return {
            "series": jsonable({"freq": self.freq, "start": self.start, "end": self.end, "n": self.n}),
            "trend": self.trend.to_dict(),
            "seasonality": self.seasonality.to_dict(),
            "growth": jsonable(self.growth),
            "changepoints": jsonable(self.changepoints.changepoints),
            "anomalies": jsonable(self.anomalies),
            "forecast": jsonable(forecast.forecast) if forecast else [],
            "model": None
            if forecast is None
            else {
                "name": forecast.model,
                "spec": forecast.spec,
                "transform": forecast.transform,
                "backtest": forecast.backtest.to_dict(),
                "candidates": jsonable(forecast.candidates),
                "level": jsonable(forecast.level),
                "interval": forecast.interval,
            },
            "detectors": {
                "changepoints": jsonable(
                    {k: v for k, v in dataclasses.asdict(self.changepoints).items() if k != "changepoints"}
                )
            },
            **({"detections": jsonable(self.detections)} if self.detections else {}),
            "parameters": self.parameters.to_dict(),
            "notes": list(self.notes) + (list(forecast.notes) if forecast else []),
            "version": __version__,
        }


@dataclass(frozen=True)
class SkippedStatistic(_Serialisable):
    """A statistic an analysis did not compute, and why (too few points for it to mean anything)."""

    statistic: str
    reason: str


@dataclass(frozen=True)
class EntityAnalysis(_Serialisable):
    """One entity of a panel. `trend` and `changepoints` are None when skipped (see `PanelAnalysis.skipped`)."""

    entity: str
    total: float
    trend: TrendResult | None
    growth: dict[str, GrowthResult | None]
    changepoints: tuple[ChangePoint, ...] | None
    status: EntityStatus


@dataclass(frozen=True)
class PanelAnalysis(_Serialisable):
    """Everything `analyse_panel` finds: per entity, the panel total with attributed anomalies, and lists.

    `skipped` names the statistics too few points ruled out (short yearly panels); a skipped statistic
    is None here (and null in JSON), never an empty "nothing found"."""

    freq: str
    start: pd.Timestamp
    end: pd.Timestamp
    n: int
    entities: tuple[EntityAnalysis, ...]
    total_trend: TrendResult | None
    total_anomalies: tuple[Anomaly, ...] | None
    emerging: tuple[str, ...]
    vanishing: tuple[str, ...]
    dropping: tuple[str, ...]
    rising: tuple[str, ...]
    parameters: AnalysisParams
    forecast: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    skipped: tuple[SkippedStatistic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The `grace panel analyse --json` object."""
        from grace import __version__

        return {
            "series": jsonable(
                {"freq": self.freq, "start": self.start, "end": self.end, "n": self.n, "entities": len(self.entities)}
            ),
            "entities": jsonable(self.entities),
            "total": {"trend": jsonable(self.total_trend), "anomalies": jsonable(self.total_anomalies)},
            "emerging": list(self.emerging),
            "vanishing": list(self.vanishing),
            "dropping": list(self.dropping),
            "rising": list(self.rising),
            "forecast": [] if self.forecast is None else jsonable(self.forecast),
            "skipped": jsonable(self.skipped),
            "parameters": self.parameters.to_dict(),
            "notes": list(self.notes),
            "version": __version__,
        }
