"""Scoring the detectors and forecasts against known truth (docs/ANALYTICS_VALIDATION.md).

Pure functions, no I/O; `scripts/validate_analytics.py` feeds them the simulator's ground truth,
real public series and the demo warehouse's backtests, and writes the tables.

- `period_index`        event dates -> positions on a series' calendar (the period holding each date)
- `match_events`        one-to-one matching of detected to true positions within a tolerance
                        (maximum matching, then the smallest total distance; scipy's assignment solver)
- `EventCounts`         true positives, false positives, misses and "explained" detections, with
                        precision and recall; counts add up across series and seeds
- `score_changepoints`  one series: expected breaks vs detected ones, where detections close to another
                        known event that moves the series (e.g. another platform's shutdown inside a total)
                        are counted apart rather than as false alarms
- `window_hits`         which true event windows (a spike lasting several days) got a detection nearby
- `rolling_statuses`    emerging / vanishing verdicts at every cutoff of a panel, as an analyst
                        re-running the detector each period would have seen them
- `first_flags`, `score_entities`  entity-level precision / recall and detection delay
- `mase`, `forecast_summary`  MASE on a block, and the median / win-rate / coverage summary of
                        chosen model vs baselines
- `interval_coverage`, `held_out_intervals`  share of actuals inside an interval; the product's forecast
                        made from the data before a cut-off and scored on the periods after it, with the
                        model's own and with the calibrated interval
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from analytics.emerging import classify_entities
from analytics.results import Backtest, EmergingParams, ForecastParams
from analytics.series import RegularPanel, RegularSeries

# ---------------------------------------------------------------------------------------------
# Positions and matching
# ---------------------------------------------------------------------------------------------


def period_index(dates: Iterable, calendar: Sequence, freq: str) -> np.ndarray:
    """Position of the period holding each date on a regular calendar of period starts (-1 if outside).

    `calendar` must be calendar-complete (as every `RegularSeries` is); a date falls in period i when
    calendar[i] <= date < calendar[i + 1] (or the period after the last start, for the last one).
    """
    starts = pd.DatetimeIndex(calendar)
    when = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    if len(starts) == 0 or len(when) == 0:
        return np.full(len(when), -1, dtype=int)
    end = RegularSeries(pd.DataFrame({"ds": starts[-1:], "y": [0.0]}), freq).future_dates(1)[0]
    index = starts.searchsorted(when, side="right") - 1
    return np.where((when >= starts[0]) & (when < end), index, -1).astype(int)


@dataclass(frozen=True)
class Matching:
    """Pairs (true position index, detected position index) matched within the tolerance."""

    pairs: tuple[tuple[int, int], ...]
    n_true: int
    n_detected: int

    @property
    def matched_true(self) -> set[int]:
        return {t for t, _ in self.pairs}

    @property
    def matched_detected(self) -> set[int]:
        return {d for _, d in self.pairs}


def match_events(
    true: Sequence[float] | np.ndarray, detected: Sequence[float] | np.ndarray, tolerance: float
) -> Matching:
    """Match each true event to at most one detection within `tolerance` (and vice versa).

    Maximises the number of matched pairs, then minimises their total distance, so two detections
    near one true event give one hit and one false alarm, and nearby true events share nothing.
    """
    true = np.asarray(true, dtype=float)
    detected = np.asarray(detected, dtype=float)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if len(true) == 0 or len(detected) == 0:
        return Matching((), len(true), len(detected))
    distance = np.abs(true[:, None] - detected[None, :])
    feasible = distance <= tolerance
    # an infeasible pair costs more than every feasible pair together: the solver first maximises matches
    big = float(distance[feasible].sum()) + 1.0 if feasible.any() else 1.0
    rows, cols = linear_sum_assignment(np.where(feasible, distance, big * (1 + len(true) + len(detected))))
    pairs = tuple(sorted((int(r), int(c)) for r, c in zip(rows, cols) if feasible[r, c]))
    return Matching(pairs, len(true), len(detected))


@dataclass(frozen=True)
class EventCounts:
    """Detection counts. `explained`: detections that match no expected event but lie near another
    known event that moves the series; they are neither hits nor false alarms."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    explained: int = 0

    def __add__(self, other: EventCounts) -> EventCounts:
        return EventCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.explained + other.explained)

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp); None when nothing was detected."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """tp / (tp + fn); None when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def total_counts(counts: Iterable[EventCounts]) -> EventCounts:
    out = EventCounts()
    for c in counts:
        out = out + c
    return out


def score_changepoints(
    expected: Sequence[int], detected: Sequence[int], tolerance: int, explainable: Sequence[int] = ()
) -> EventCounts:
    """Score one series' detected breaks against the expected ones (positions in periods).

    A detection within `tolerance` of an expected break (one-to-one) is a hit; an unmatched detection
    within `tolerance` of an `explainable` position is counted as explained; the rest are false alarms.
    Expected positions of -1 (outside the series) are ignored.
    """
    expected = [p for p in expected if p >= 0]
    matching = match_events(expected, detected, tolerance)
    spare = [d for i, d in enumerate(detected) if i not in matching.matched_detected]
    others = np.asarray([p for p in explainable if p >= 0], dtype=float)
    explained = sum(1 for d in spare if len(others) and np.min(np.abs(others - d)) <= tolerance)
    tp = len(matching.pairs)
    return EventCounts(tp=tp, fp=len(spare) - explained, fn=len(expected) - tp, explained=explained)


def window_hits(windows: Sequence[tuple[int, int]], detected: Sequence[int], tolerance: int) -> list[bool]:
    """For each (first, last) period window, whether any detection lies in [first - tol, last + tol]."""
    found = np.asarray(list(detected), dtype=float)
    return [
        bool(len(found)) and bool(np.any((found >= first - tolerance) & (found <= last + tolerance)))
        for first, last in windows
    ]


# ---------------------------------------------------------------------------------------------
# Emerging and vanishing entities
# ---------------------------------------------------------------------------------------------


def rolling_statuses(
    panel: RegularPanel, params: EmergingParams = EmergingParams(), first_cutoff: int | None = None
) -> pd.DataFrame:
    """The status of every entity as classified on the panel's first c periods, for every cutoff c.

    Columns: cutoff (index of the last period used), ds (its date), entity, status. `first_cutoff`
    defaults to the first cutoff with a full baseline and recent window for the panel's frequency.
    """
    from analytics.emerging import BASELINE_PERIODS, RECENT_PERIODS

    calendar = pd.DatetimeIndex(sorted(panel.frame["ds"].unique()))
    start = (
        first_cutoff
        if first_cutoff is not None
        else (
            (params.recent_periods or RECENT_PERIODS[panel.freq])
            + (params.baseline_periods or BASELINE_PERIODS[panel.freq])
        )
    )
    frames = []
    for cutoff in range(max(2, start), len(calendar) + 1):
        part = panel.frame[panel.frame["ds"] <= calendar[cutoff - 1]]
        statuses = classify_entities(RegularPanel(part, panel.freq, name=panel.name), params)
        frames.append(
            pd.DataFrame(
                {
                    "cutoff": cutoff - 1,
                    "ds": calendar[cutoff - 1],
                    "entity": [s.entity for s in statuses],
                    "status": [s.status for s in statuses],
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["cutoff", "ds", "entity", "status"])
    return pd.concat(frames, ignore_index=True)


def first_flags(statuses: pd.DataFrame, status: str) -> dict[str, int]:
    """Entity -> first cutoff at which it was given `status` (entities never given it are absent)."""
    flagged = statuses[statuses["status"] == status]
    return {str(k): int(v) for k, v in flagged.groupby("entity", sort=True)["cutoff"].min().items()}


def score_entities(
    flags: Mapping[str, int], truth: Mapping[str, int], tolerance: int = 0
) -> tuple[EventCounts, dict[str, int | None]]:
    """Entity-level score of status flags against true events (entity -> event period).

    A flagged entity is a hit when it has a true event and its first flag comes no earlier than
    `tolerance` periods before the event (a flag long before the event is not a detection of it).
    Returns the counts and, for every true entity, the delay in periods from event to first flag
    (None when missed).
    """
    delays: dict[str, int | None] = {}
    tp = 0
    for entity, event in sorted(truth.items()):
        flag = flags.get(entity)
        if flag is not None and flag >= event - tolerance:
            tp += 1
            delays[entity] = flag - event
        else:
            delays[entity] = None
    fp = sum(1 for entity, flag in flags.items() if delays.get(entity) is None)
    return EventCounts(tp=tp, fp=fp, fn=len(truth) - tp), delays


# ---------------------------------------------------------------------------------------------
# Forecasts
# ---------------------------------------------------------------------------------------------


def mase(
    actual: Sequence[float] | np.ndarray,
    forecast: Sequence[float] | np.ndarray,
    train: Sequence[float] | np.ndarray,
    lag: int = 1,
) -> float:
    """Mean absolute error scaled by the in-sample MAE of the lag-`lag` naive forecast on `train`
    (Hyndman & Koehler 2006), the same scaling `analytics.forecast.backtest` uses. inf when the
    scale is zero and the error is not."""
    actual, forecast, train = (np.asarray(a, dtype=float) for a in (actual, forecast, train))
    if actual.shape != forecast.shape or len(actual) == 0:
        raise ValueError(
            f"actual and forecast must be non-empty and equally long, got {actual.shape} and {forecast.shape}"
        )
    lag = lag if len(train) > lag else 1
    if len(train) <= lag:
        raise ValueError(f"training data of {len(train)} point(s) is too short for a lag-{lag} scale")
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
    mae = float(np.mean(np.abs(actual - forecast)))
    if scale > 0:
        return mae / scale
    return 0.0 if mae == 0 else float("inf")


def forecast_summary(frame: pd.DataFrame, reference: str, others: Sequence[str]) -> pd.DataFrame:
    """Per model: series scored, median and mean MASE, and the share of series where `reference`
    (e.g. the chosen model) has a lower MASE than that model (ties count half).

    `frame` has one row per series and one MASE column per model (NaN where a model was not scored);
    series where either side is missing or infinite are left out of that comparison.
    """
    rows = []
    for model in [reference, *others]:
        values = frame[model].to_numpy(dtype=float)
        finite = np.isfinite(values)
        row = {
            "model": model,
            "series": int(finite.sum()),
            "median_mase": float(np.median(values[finite])) if finite.any() else np.nan,
            "mean_mase": float(np.mean(values[finite])) if finite.any() else np.nan,
            "reference_wins": np.nan,
        }
        if model != reference:
            ref = frame[reference].to_numpy(dtype=float)
            both = finite & np.isfinite(ref)
            if both.any():
                wins = (ref[both] < values[both]).sum() + 0.5 * (ref[both] == values[both]).sum()
                row["reference_wins"] = float(wins / both.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def interval_coverage(
    actual: Sequence[float] | np.ndarray, lower: Sequence[float] | np.ndarray, upper: Sequence[float] | np.ndarray
) -> float:
    """Share of the actuals inside their interval, bounds included."""
    actual, lower, upper = (np.asarray(a, dtype=float) for a in (actual, lower, upper))
    if not (actual.shape == lower.shape == upper.shape) or len(actual) == 0:
        raise ValueError(f"actual and bounds must be non-empty and equally long, got {actual.shape}, {lower.shape}")
    return float(np.mean((actual >= lower) & (actual <= upper)))


@dataclass(frozen=True)
class HeldOut:
    """The product's forecast from the data before `cut`, scored on the next `len(actual)` periods."""

    cut: int
    model: str
    actual: np.ndarray
    own: float  # coverage of the model's own interval
    calibrated: float  # coverage of the calibrated interval (the one the product stores)
    calibration_factor: float | None
    backtest: Backtest  # the chosen model's backtest on the data before `cut`


def held_out_intervals(series: RegularSeries, cut: int, params: ForecastParams) -> HeldOut:
    """Forecast `params.horizon` periods from the first `cut` periods of `series` as the product does
    (seasonality detected on those periods alone; the model chosen by their backtest) and score the
    model's own and the calibrated interval on the actuals after `cut` (as many as there are)."""
    import dataclasses

    from analytics.forecast import forecast
    from analytics.seasonality import seasonality

    train = RegularSeries(series.frame.iloc[:cut].reset_index(drop=True), series.freq, name=series.name)
    actual = series.y[cut : cut + params.horizon]
    if len(actual) == 0:
        raise ValueError(f"nothing is held out after period {cut} of {series.n}")
    seasonal = seasonality(train).seasonal
    calibrated = forecast(train, params, seasonal)
    own = forecast(train, dataclasses.replace(params, calibration_origins=0), seasonal)  # same model, own interval
    k = len(actual)
    return HeldOut(
        cut=cut,
        model=calibrated.model,
        actual=actual,
        own=interval_coverage(actual, *(own.frame()[c].to_numpy()[:k] for c in ("yhat_lower", "yhat_upper"))),
        calibrated=interval_coverage(
            actual, *(calibrated.frame()[c].to_numpy()[:k] for c in ("yhat_lower", "yhat_upper"))
        ),
        calibration_factor=calibrated.backtest.calibration_factor if calibrated.interval == "calibrated" else None,
        backtest=calibrated.backtest,
    )
