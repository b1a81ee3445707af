"""Forecasts: candidate models, rolling-origin backtests, choice by MASE, calibrated intervals with measured coverage.

Models (sklearn-like: `fit(y, ds)` then `predict(horizon, level)` -> mean, lower, upper):
- `seasonal_naive` — the last season repeated (lag 1, i.e. naive, when the series is not seasonal);
  interval sd_h = sigma sqrt(floor((h-1)/m) + 1) (Hyndman & Athanasopoulos, FPP3 5.5);
- `drift` — random walk with drift; sd_h = sigma sqrt(h (1 + h/T));
- `theta` — statsmodels ThetaModel (deseasonalised when seasonal); its own intervals;
- `ets` — statsmodels ETSModel, additive errors, damped additive trend, additive season when seasonal
  and two seasons are available; heuristic initialisation (4x faster than estimating the states);
- `sarima` — statsmodels SARIMAX (1,1,1)(0,1,1)m ("airline" plus AR term); (1,1,1) when not seasonal
  or m > 24 (a seasonal fit with m = 52 takes seconds);
- `prophet` — Prophet with yearly (and, for daily data, weekly) seasonality, Stan seed and interval
  sampling seeded.
Cost decides the default set, because every model is fitted twice per backtest fold (the second fit
calibrates the intervals, see below) and once more if chosen (measured per fit on 60 monthly / 156
weekly points, 2 shared cores): seasonal naive and drift < 1 ms, ETS ~20 ms, Theta ~100 ms (its
interval variance comes from an ARIMA fit), SARIMA ~0.15 s (monthly), Prophet ~0.15-0.5 s. The
default is seasonal naive, drift and ETS, plus Prophet for daily series of at least `prophet_min_days`
points (two years: Prophet's yearly seasonality is what ETS with a 7-day season lacks). Theta, SARIMA
and Prophet can be asked for through `ForecastParams.models`.

Backtest: the last `folds` non-overlapping blocks of `bh` = min(horizon, n // 4) points, each forecast
from the data before it (rolling origin); at least two seasons (or 8 points) of training data per
fold, fewer folds when the series is short. The fold layout depends only on n, the season length and
the horizon, so every series of a panel is tested on the same origins (needed for reconciliation).
MASE = MAE / mean |y_t - y_{t-m}| on the fold's training data (m = season length for seasonal series,
else 1), averaged over folds. The model with the lowest MASE wins (ties: the earlier, cheaper model);
it is refitted on the whole series. Coverage = share of backtest actuals inside the model's intervals.
Forecasts of non-negative series are clipped at zero.

Calibrated intervals (split-conformal on the rolling-origin errors; Vovk, Gammerman & Shafer 2005,
Lei et al. 2018 "Distribution-free predictive inference for regression", JASA 113:1094, with the
locally weighted score of their section 5.2). The models' own intervals assume their error model and
were far too narrow on trending or shifting series (the demo's monthly EU total: 47 % of backtest
actuals inside the 80 % interval). So every model is also fitted at `calibration_origins` rolling
origins per backtest block (default 2: the fold origin and one midway through the block; extra fits
serve the calibration only, MASE and `coverage` stay on the non-overlapping folds), and each actual
gets a score: its distance from the model's mean in units of the model's interval half-width on
that side at that step (upper - mean above, mean - lower below). The calibrated interval is the
chosen model's final interval with both half-widths multiplied by q, the ceil((k + 1) level)-th
smallest of the k scores (the finite-sample conformal quantile). Choices, and why:
- one factor for every step, scores pooled over steps after scaling by the model's own half-width:
  3 folds give only 3 errors per step, fewer than the 4 that an 80 % conformal quantile needs, and the
  model's half-width carries its growth of uncertainty with the horizon (seasonal naive by season,
  drift and ETS by their variance formulas), also for steps beyond the backtest's `bh`;
  tried on 4 hold-out blocks of 24 periods of 8 real series with 3 folds, this score covered 76 % on
  average, sqrt(h)-scaled absolute errors 75 % and per-step quantiles (neighbouring steps pooled) 72 %;
- symmetric in the score (one q for both sides): the signed errors of a few origins are too few to
  estimate two tails; a biased model gets a wider interval rather than a shifted one;
- a side with zero width (a model fitted to a constant series) is scaled by the naive forecast's MAE
  x sqrt(h) instead, so every score is finite;
- q may be below 1: intervals wider than the errors need (seasonal naive's, often) are narrowed;
- too few scores for the level (k + 1 < 1 / (1 - level)): the model's own interval, with a note.
`Backtest.calibrated_coverage` measures the calibrated intervals honestly: each backtest fold is
calibrated only on scores of actuals observed before its origin (so never on its own errors), and the
coverage is pooled over the folds that have enough of them (every fold but the first, as a rule).
Scores from overlapping blocks are not independent and the series may change regime after the last
origin, so the guarantee is approximate: see docs/ANALYTICS_VALIDATION.md for measured coverage.

Speed: fits run with BLAS/OpenMP limited to one thread (`single_threaded`): these are many small
problems, and on a busy machine OpenBLAS threads spinning inside SciPy's L-BFGS-B made one ETS fit
4 ms with one thread and 20-37 ms with two. Warm-starting each fold's ETS fit from the previous
fold's estimates was tried and rejected: 16 % less ETS time, but on 30 of 164 demo series the
optimiser then settled in another local optimum (as often worse as better), so the chosen model
would depend on the warm start rather than on the data.
"""

from __future__ import annotations

import logging
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd
from scipy.stats import norm

from analytics.results import Backtest, ForecastParams, ForecastPoint, ForecastResult
from analytics.seasonality import can_be_seasonal
from analytics.series import RegularSeries

MIN_TRAIN = 8
SARIMA_MAX_SEASON = 24  # a seasonal SARIMA with m = 52 takes seconds per fit; weekly data get (1,1,1)
MODELS = ("seasonal_naive", "drift", "theta", "ets", "sarima", "prophet")
# whether this thread already runs with BLAS/OpenMP limited to one thread (see `single_threaded`)
_SINGLE_THREADED: ContextVar[bool] = ContextVar("grace_single_threaded", default=False)


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class _Model(ABC):
    """A forecasting model: `fit` on a history, then `predict` point forecasts with an interval."""

    name = "model"

    def __init__(self, season_length: int, seasonal: bool, freq: str, seed: int = 0):
        self.season_length, self.seasonal, self.freq, self.seed = season_length, seasonal, freq, seed

    def uses_season(self, n: int) -> bool:
        return self.seasonal and can_be_seasonal(n, self.season_length)

    @abstractmethod
    def fit(self, y: np.ndarray, ds: pd.DatetimeIndex) -> _Model:
        """Learn from `y` observed at `ds`; returns self."""

    @abstractmethod
    def predict(self, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) for the next `horizon` periods at interval `level`."""


class SeasonalNaive(_Model):
    name = "seasonal_naive"

    def fit(self, y, ds):
        self.y = np.asarray(y, dtype=float)
        self.m = self.season_length if self.seasonal and len(self.y) > self.season_length else 1
        e = self.y[self.m :] - self.y[: -self.m]
        self.sigma = float(np.sqrt(np.mean(e**2))) if len(e) else 0.0
        return self

    def predict(self, horizon, level):
        h = np.arange(1, horizon + 1)
        mean = self.y[-self.m :][(h - 1) % self.m]
        sd = self.sigma * np.sqrt(np.floor((h - 1) / self.m) + 1)
        return _interval(mean, sd, level)


class Drift(_Model):
    name = "drift"

    def fit(self, y, ds):
        self.y = np.asarray(y, dtype=float)
        n = len(self.y)
        self.slope = (self.y[-1] - self.y[0]) / (n - 1) if n > 1 else 0.0
        e = np.diff(self.y) - self.slope
        self.sigma = float(np.std(e, ddof=1)) if len(e) > 1 else 0.0
        return self

    def predict(self, horizon, level):
        h = np.arange(1, horizon + 1)
        n = len(self.y)
        mean = self.y[-1] + self.slope * h
        sd = self.sigma * np.sqrt(h * (1 + h / n))
        return _interval(mean, sd, level)


class Theta(_Model):
    name = "theta"

    def fit(self, y, ds):
        from statsmodels.tsa.forecasting.theta import ThetaModel

        y = np.asarray(y, dtype=float)
        seasonal = self.uses_season(len(y))
        method = "multiplicative" if seasonal and np.all(y > 0) else "additive"
        self.result = ThetaModel(
            y, period=self.season_length if seasonal else 1, deseasonalize=seasonal, use_test=False, method=method
        ).fit()
        return self

    def predict(self, horizon, level):
        mean = np.asarray(self.result.forecast(horizon), dtype=float)
        bounds = self.result.prediction_intervals(horizon, alpha=1 - level)
        return mean, bounds["lower"].to_numpy(dtype=float), bounds["upper"].to_numpy(dtype=float)


class ETS(_Model):
    name = "ets"

    def fit(self, y, ds):
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = pd.Series(np.asarray(y, dtype=float))
        self.n = len(y)
        seasonal = self.uses_season(self.n) and self.n >= 2 * self.season_length + 2
        kwargs = {
            "error": "add",
            "trend": "add",
            "damped_trend": True,
            "seasonal": "add" if seasonal else None,
            "seasonal_periods": self.season_length if seasonal else None,
        }
        try:
            model = ETSModel(y, initialization_method="heuristic", **kwargs)
        except ValueError:  # too short for the heuristic start values
            model = ETSModel(y, initialization_method="estimated", **kwargs)
        self.result = model.fit(disp=False)
        return self

    def predict(self, horizon, level):
        prediction = self.result.get_prediction(start=self.n, end=self.n + horizon - 1)
        bounds = np.asarray(prediction.pred_int(alpha=1 - level), dtype=float)
        return np.asarray(prediction.predicted_mean, dtype=float), bounds[:, 0], bounds[:, 1]


class SARIMA(_Model):
    name = "sarima"

    def fit(self, y, ds):
        from statsmodels.tsa.statespace.sarimax import SARIMAX

        y = np.asarray(y, dtype=float)
        seasonal = (
            self.uses_season(len(y))
            and len(y) >= 2 * self.season_length + 3
            and self.season_length <= SARIMA_MAX_SEASON
        )
        order = (0, 1, 1, self.season_length) if seasonal else (0, 0, 0, 0)
        self.result = SARIMAX(y, order=(1, 1, 1), seasonal_order=order).fit(disp=False)
        return self

    def predict(self, horizon, level):
        forecast = self.result.get_forecast(horizon)
        bounds = np.asarray(forecast.conf_int(alpha=1 - level), dtype=float)
        return np.asarray(forecast.predicted_mean, dtype=float), bounds[:, 0], bounds[:, 1]


class ProphetModel(_Model):
    name = "prophet"

    def fit(self, y, ds):
        from prophet import Prophet

        self.ds = pd.DatetimeIndex(ds)
        years = (self.ds[-1] - self.ds[0]).days / 365.25
        frame = pd.DataFrame({"ds": self.ds, "y": np.asarray(y, dtype=float)})
        with _quiet_stan():
            self.model = Prophet(
                yearly_seasonality=bool(years >= 2 and self.freq in "DWM"),
                weekly_seasonality=self.freq == "D",
                daily_seasonality=False,
                uncertainty_samples=300,
            )
            self.model.fit(frame, seed=self.seed)
        return self

    def predict(self, horizon, level):
        future_ds = RegularSeries(pd.DataFrame({"ds": self.ds, "y": 0.0}), self.freq).future_dates(horizon)
        self.model.interval_width = level
        state = np.random.get_state()  # Prophet samples its intervals from numpy's global generator
        np.random.seed(self.seed)
        try:
            with _quiet_stan():
                frame = self.model.predict(pd.DataFrame({"ds": future_ds}))
        finally:
            np.random.set_state(state)
        return (
            frame["yhat"].to_numpy(dtype=float),
            frame["yhat_lower"].to_numpy(dtype=float),
            frame["yhat_upper"].to_numpy(dtype=float),
        )


_REGISTRY: dict[str, type[_Model]] = {
    "seasonal_naive": SeasonalNaive,
    "drift": Drift,
    "theta": Theta,
    "ets": ETS,
    "sarima": SARIMA,
    "prophet": ProphetModel,
}


def make_model(name: str, season_length: int, seasonal: bool, freq: str, seed: int = 0) -> _Model:
    if name not in _REGISTRY:
        raise ValueError(f"unknown forecast model {name!r}; choose from {', '.join(MODELS)}")
    return _REGISTRY[name](season_length, seasonal, freq, seed)


# ---------------------------------------------------------------------------------------------
# Backtest and selection
# ---------------------------------------------------------------------------------------------


def fold_layout(n: int, season_length: int, horizon: int, folds: int) -> tuple[int, list[int]]:
    """(backtest horizon, fold origins); empty origins when the series is too short."""
    bh = max(1, min(horizon, n // 4))
    min_train = MIN_TRAIN
    if season_length >= 2 and n >= 2 * season_length + bh:
        min_train = max(MIN_TRAIN, 2 * season_length)
    k = min(folds, (n - min_train) // bh)
    if k < 1:
        bh = n - min_train
        k = 1 if bh >= 1 else 0
    return bh, [n - bh * (k - i) for i in range(k)]


def min_points(horizon: int = 1) -> int:
    """The shortest series a forecast with a backtest accepts: 9 points, and no fewer than the horizon
    (a forecast reaches no further ahead than the history behind it)."""
    return max(MIN_TRAIN + 1, horizon)


def calibration_origins(n: int, bh: int, origins: list[int], per_fold: int) -> list[int]:
    """The backtest origins plus `per_fold - 1` more, evenly spaced inside each block (before n)."""
    found = {o + (k * bh) // per_fold for o in origins for k in range(max(1, per_fold))}
    return sorted(o for o in found if o < n)


def conformal_quantile(scores: np.ndarray, level: float) -> float | None:
    """The split-conformal quantile: the ceil((k + 1) level)-th smallest of k scores (Vovk et al. 2005;
    Lei et al. 2018), so that a new exchangeable score falls at or below it with probability >= level.
    None when k is too small for the level (k + 1 < 1 / (1 - level): e.g. fewer than 4 scores at 80 %)."""
    values = np.sort(np.asarray(scores, dtype=float).ravel())
    rank = math.ceil(round((len(values) + 1) * level, 9))
    if rank > len(values) or rank < 1:
        return None
    return float(values[rank - 1])


def interval_scores(
    actual: np.ndarray, mean: np.ndarray, lower: np.ndarray, upper: np.ndarray, train: np.ndarray, clip: bool
) -> np.ndarray:
    """Nonconformity of each actual: its distance from the model's (unclipped) mean in units of the
    interval's half-width on its side (above: upper - mean; below: mean - lower). An actual lies in
    the interval mean - q (mean - lower) .. mean + q (upper - mean), clipped at zero when `clip`, exactly
    when its score is <= q; q = 1 is the model's own interval."""
    actual = np.asarray(actual, dtype=float)
    k = len(actual)
    below, above = _half_widths(mean, lower, upper, train)
    diff = actual - np.asarray(mean, dtype=float)[:k]
    score = np.where(diff >= 0, diff / above[:k], -diff / below[:k])
    if clip:  # an upper bound clipped at zero still holds an actual of zero
        score = np.where((actual <= 0) & (diff >= 0), 0.0, score)
    return score


def calibrated_interval(
    mean: np.ndarray, lower: np.ndarray, upper: np.ndarray, train: np.ndarray, factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """The model's interval with both half-widths multiplied by `factor` (before any clipping)."""
    below, above = _half_widths(mean, lower, upper, train)
    return mean - factor * below, mean + factor * above


def _half_widths(mean, lower, upper, train) -> tuple[np.ndarray, np.ndarray]:
    """(mean - lower, upper - mean); a side that is not positive (a model with zero variance, e.g. fitted
    to a constant series) falls back to the naive forecast's mean absolute error on `train` times
    sqrt(h), and that to a tiny scale, so that every score is finite."""
    mean, lower, upper = (np.asarray(a, dtype=float) for a in (mean, lower, upper))
    train = np.asarray(train, dtype=float)
    h = np.arange(1, len(mean) + 1)
    naive = float(np.mean(np.abs(np.diff(train)))) if len(train) > 1 else 0.0
    tiny = 1e-9 * (1.0 + (float(np.mean(np.abs(train))) if len(train) else 0.0))
    fallback = max(naive, tiny) * np.sqrt(h)
    below, above = mean - lower, upper - mean
    below = np.where(np.isfinite(below) & (below > 0), below, fallback)
    above = np.where(np.isfinite(above) & (above > 0), above, fallback)
    return below, above


def backtest(series: RegularSeries, name: str, params: ForecastParams, seasonal: bool) -> Backtest:
    """Rolling-origin backtest of one model, and the calibration of its intervals (module docstring)."""
    y, ds = series.y, series.ds
    bh, origins = fold_layout(len(y), series.season_length, params.horizon, params.folds)
    mase_lag = series.season_length if seasonal else 1
    clip = params.nonnegative and bool(np.all(y >= 0))
    calibrate = params.calibration_origins > 0
    fitted_at = calibration_origins(len(y), bh, origins, params.calibration_origins) if calibrate else origins
    maes, mases, errors, covered = [], [], [], []
    scores: dict[int, np.ndarray] = {}  # origin -> scores of the actuals at origin, origin + 1, ...
    for origin in fitted_at:
        train, test = y[:origin], y[origin : origin + bh]
        try:
            model = make_model(name, series.season_length, seasonal, series.freq, params.seed)
            raw = _finite(*model.fit(train, ds[:origin]).predict(bh, params.level))
        except (ValueError, np.linalg.LinAlgError, RuntimeError):
            if origin in origins:
                raise  # a backtest fold: the model fails (see `forecast`)
            continue  # an origin that only calibrates: calibrate without it
        if calibrate:
            scores[origin] = interval_scores(test, *raw, train, clip)
        if origin not in origins:
            continue
        mean, lower, upper = _clip(*raw, clip)
        error = test - mean
        lag = mase_lag if len(train) > mase_lag else 1
        scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
        mae = float(np.mean(np.abs(error)))
        maes.append(mae)
        mases.append(mae / scale if scale > 0 else (0.0 if mae == 0 else np.inf))
        errors.append(error)
        covered.append((test >= lower) & (test <= upper))
    every = np.concatenate(list(scores.values())) if scores else np.empty(0)
    return Backtest(
        model=name,
        folds=len(origins),
        horizon=bh,
        mase=float(np.mean(mases)),
        mae=float(np.mean(maes)),
        rmse=float(np.sqrt(np.mean(np.concatenate(errors) ** 2))),
        coverage=float(np.mean(np.concatenate(covered))),
        level=params.level,
        calibrated_coverage=_chained_coverage(scores, origins, params.level),
        calibration_factor=conformal_quantile(every, params.level) if calibrate else None,
        calibration_points=len(every),
        errors=np.vstack(errors),
    )


def _chained_coverage(scores: dict[int, np.ndarray], origins: list[int], level: float) -> float | None:
    """Coverage of the calibrated intervals, measured honestly: each backtest fold calibrated only on the
    scores of actuals observed before its origin (none of its own), pooled over the folds that have
    enough of them (usually every fold but the first)."""
    if not scores:
        return None
    times = np.concatenate([o + np.arange(len(s)) for o, s in scores.items()])
    values = np.concatenate(list(scores.values()))
    covered = []
    for origin in origins:
        factor = conformal_quantile(values[times < origin], level)
        if factor is not None:
            covered.append(scores[origin] <= factor)
    return float(np.mean(np.concatenate(covered))) if covered else None


def _selection_key(b: Backtest) -> tuple[float, float]:
    """Lowest MASE first (a non-finite one counts as infinite), then lowest MAE."""
    if b.mase is None:  # `backtest` always measures one; only a stored result may lack it
        raise ValueError(f"backtest of model {b.model} has no MASE to select by")
    return (b.mase if np.isfinite(b.mase) else np.inf, b.mae)


def forecast(
    series: RegularSeries, params: ForecastParams = ForecastParams(), seasonal: bool = False
) -> ForecastResult:
    """Backtest every candidate, keep the lowest MASE, refit it on the whole series and forecast."""
    if params.horizon < 1:
        raise ValueError("horizon must be at least 1")
    series.require(min_points(params.horizon), f"a {params.horizon}-period forecast with a backtest")
    notes = []
    candidates = []
    names = list(dict.fromkeys(params.models))
    if (
        series.freq == "D"
        and params.prophet_min_days
        and series.n >= params.prophet_min_days
        and "prophet" not in names
    ):
        names.append("prophet")
    for name in names:
        try:
            with _quiet_fitting():
                candidates.append(backtest(series, name, params, seasonal))
        except (ValueError, np.linalg.LinAlgError, RuntimeError) as error:
            if name not in _REGISTRY:
                raise
            notes.append(f"model {name} failed and was skipped ({type(error).__name__}: {error})")
    if not candidates:
        raise RuntimeError("no forecast model could be fitted")
    best = min(candidates, key=_selection_key)
    if best.horizon < params.horizon:
        notes.append(f"backtested {best.horizon} period(s) ahead (series too short for {params.horizon})")
    with _quiet_fitting():
        model = make_model(best.model, series.season_length, seasonal, series.freq, params.seed).fit(
            series.y, series.ds
        )
        mean, lower, upper = _finite(*model.predict(params.horizon, params.level))
    interval = "model"
    if best.calibration_factor is not None:
        lower, upper = calibrated_interval(mean, lower, upper, series.y, best.calibration_factor)
        interval = "calibrated"
    elif params.calibration_origins > 0:
        notes.append(
            f"prediction interval not calibrated: {best.calibration_points} backtest error(s) are too few for a "
            f"{params.level:.0%} conformal quantile; the model's own interval is shown"
        )
    mean, lower, upper = _clip(mean, lower, upper, params.nonnegative and bool(np.all(series.y >= 0)))
    points = tuple(
        ForecastPoint(date=d, yhat=float(m), yhat_lower=float(lo), yhat_upper=float(hi))
        for d, m, lo, hi in zip(series.future_dates(params.horizon), mean, lower, upper)
    )
    return ForecastResult(
        model=best.model,
        backtest=best,
        candidates=tuple(candidates),
        forecast=points,
        level=params.level,
        notes=tuple(notes),
        interval=interval,
    )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _interval(mean: np.ndarray, sd: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = norm.ppf(0.5 + level / 2)
    return mean, mean - z * sd, mean + z * sd


def _finite(mean, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean, lower, upper = (np.nan_to_num(np.asarray(a, dtype=float), nan=0.0) for a in (mean, lower, upper))
    return mean, lower, upper


def _clip(mean, lower, upper, clip: bool):
    mean, lower, upper = _finite(mean, lower, upper)
    if clip:
        mean, lower, upper = np.maximum(mean, 0), np.maximum(lower, 0), np.maximum(upper, 0)
    return mean, lower, upper


@contextmanager
def single_threaded() -> Iterator[None]:
    """Limit BLAS/OpenMP to one thread: many small fits run up to 8x slower when threads oversubscribe
    the cores. Entering costs about 4 ms (threadpoolctl inspects the loaded libraries), so wrap a whole
    batch, not each fit; nested uses inside a batch cost nothing."""
    if _SINGLE_THREADED.get():
        yield
        return
    import scipy.linalg  # noqa: F401  loads SciPy's own OpenBLAS now, so the limit below reaches it too
    from threadpoolctl import threadpool_limits

    token = _SINGLE_THREADED.set(True)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        _SINGLE_THREADED.reset(token)


@contextmanager
def _quiet_fitting() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


@contextmanager
def _quiet_stan() -> Iterator[None]:
    from cmdstanpy.utils.logging import get_logger

    get_logger()  # cmdstanpy configures its logger on first use; do that first so our level sticks
    loggers = [logging.getLogger(name) for name in ("cmdstanpy", "prophet")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Prophet's own pandas deprecation warnings
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
