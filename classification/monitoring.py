"""Is the active triage model still fit? Weekly calibration, feature drift and score drift.

- **Feature drift**: the population stability index (PSI) of each feature's weekly distribution against
  the model's training window. Bins: for a numeric feature with at most 10 values in training (flags, small
  counts), one per value; otherwise the training window's deciles (collapsed where they repeat); for a
  code, its training levels plus "other".
  PSI = Σ (p_week − p_ref) · ln(p_week / p_ref), with each side's shares smoothed by half a count per bin
  (a bin empty on one side would otherwise be infinite, and a floor inflates PSI wherever a small week
  leaves bins empty). Rule of thumb: < 0.1 stable, 0.1–0.2 watch, > 0.2 shift.
- **Score drift**: the PSI of the week's calibrated probabilities against the test window's (deciles).
- **Sudden shifts**: the same PSI of each week against the 12 weeks just before it (`feature_shift`,
  `score_shift`). Against the training window, a feature that trends slowly (a platform mix that moves
  year on year) is flagged every week once it has moved; against the recent weeks only a step change is,
  in its first full week.
- **Calibration**: each week's ECE over the referrals whose label is known (closed outcomes) and the mean
  predicted against the observed rate; separately, when the analysts' reviews are given (a frame of
  referral_key, label 0/1, reviewed_at; the latest review of a referral counts), the weekly ECE on those
  reviewed labels (`ece_reviewed`); and the reliability curve (ten equal-width bins of the predicted
  probability: referrals, mean predicted, observed rate) of the latest full calendar quarter of received
  referrals, on the labels known now.

Small weeks inflate PSI by chance alone: with k bins, n referrals in the week and m in the reference,
PSI of two samples of one distribution is about (k − 1)(1/n + 1/m) (it is a chi-square statistic scaled
so). That expected noise is reported beside each PSI, and a week is flagged when its PSI exceeds the
threshold (`GRACE_DRIFT_PSI`, default 0.2) by more than the noise, and it holds at least `MIN_WEEK`
referrals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from classification.features import CATEGORICAL, FEATURES, key_text
from classification.metrics import expected_calibration_error, reliability
from classification.model import ScoringModel

SMOOTHING = 0.5
MIN_WEEK = 50
SHIFT_WEEKS = 12


@dataclass(frozen=True)
class DriftParams:
    threshold: float = 0.2
    min_week: int = MIN_WEEK


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two distributions given as counts over the same bins (each side
    smoothed by half a count per bin)."""
    ref, cur = np.asarray(reference, float) + SMOOTHING, np.asarray(current, float) + SMOOTHING
    ref, cur = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _bins(values: pd.Series, reference: pd.Series, categorical: bool) -> tuple[np.ndarray, int]:
    """Bin index of each value and the number of bins, defined on the reference values."""
    if categorical:
        levels = sorted(reference.dropna().astype(str).unique().tolist())
        lookup = {level: k for k, level in enumerate(levels)}
        index = values.astype(str).map(lookup).fillna(len(levels)).astype(int).to_numpy()
        return index, len(levels) + 1
    edges = _edges(reference.astype(float).to_numpy())
    return np.searchsorted(edges, values.astype(float).to_numpy(), side="left"), len(edges) + 1


def _edges(reference: np.ndarray) -> np.ndarray:
    """Upper bin edges of a numeric feature, defined on its reference values (see `_bins`)."""
    distinct = np.unique(reference[np.isfinite(reference)])
    if len(distinct) <= 10:  # few values (flags, small counts): a bin per value, cut half-way between them
        return (distinct[:-1] + distinct[1:]) / 2
    # Deciles as inclusive upper bounds: (-inf, e0], (e0, e1], …, (e_last, inf). A count that is mostly 0
    # has e0 = 0, so its zeros and its non-zeros fall in different bins.
    return np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))


def _weeks(frame: pd.DataFrame) -> np.ndarray:
    return pd.to_datetime(frame["received_date"]).dt.to_period("W-SUN").dt.start_time.dt.date.to_numpy()


def _row(week, measure: str, column: str, ref_counts: np.ndarray, counts: np.ndarray, params: DriftParams) -> dict:
    """One PSI row: the value, its sampling noise and the verdict (see the module docstring)."""
    value = psi(ref_counts, counts)
    used = int(np.count_nonzero(ref_counts + counts))
    n = int(counts.sum())
    noise = max(used - 1, 0) * (1 / max(n, 1) + 1 / max(int(ref_counts.sum()), 1))
    return {
        "week": week,
        "measure": measure,
        "feature": "" if column == "__score__" else column,
        "value": value,
        "noise": noise,
        "referrals": n,
        "drifted": bool(value > params.threshold + noise and n >= params.min_week),
    }


def weekly_drift(
    frame: pd.DataFrame,
    reference: pd.DataFrame,
    probability: np.ndarray,
    reference_probability: np.ndarray,
    params: DriftParams = DriftParams(),
) -> pd.DataFrame:
    """One row per (week, measure, feature): the PSI of each feature and of the score, per received week,
    against a fixed reference (the model's training window; its test window for the score)."""
    weeks = _weeks(frame)
    rows = []
    for column in [*FEATURES, "__score__"]:
        if column == "__score__":
            values, ref_values, categorical = pd.Series(probability), pd.Series(reference_probability), False
        else:
            values, ref_values, categorical = frame[column], reference[column], column in CATEGORICAL
        index, size = _bins(values, ref_values, categorical)
        ref_index, _ = _bins(ref_values, ref_values, categorical)
        ref_counts = np.bincount(ref_index, minlength=size)
        table = pd.DataFrame({"week": weeks, "bin": index})
        measure = "score_psi" if column == "__score__" else "feature_psi"
        for week, group in table.groupby("week", sort=True):
            rows.append(
                _row(week, measure, column, ref_counts, np.bincount(group["bin"].to_numpy(), minlength=size), params)
            )
    return pd.DataFrame(rows)


def weekly_shift(
    frame: pd.DataFrame,
    probability: np.ndarray,
    since: date,
    params: DriftParams = DriftParams(),
    weeks_back: int = SHIFT_WEEKS,
) -> pd.DataFrame:
    """A sudden shift: each week from `since` against the `weeks_back` weeks just before it (measures
    'feature_shift', 'score_shift'). A slow trend moves the reference with it and stays quiet; a step
    change shows in its first full week. `frame` must hold the weeks before `since` too.

    Each column is prepared for binning once (`_WindowBinning`), then binned against each week's own
    reference window: the same bins as `_bins` on that window, without converting the column again."""
    weeks = _weeks(frame).astype("datetime64[D]")
    columns = [
        (column, _WindowBinning(frame[column].reset_index(drop=True), column in CATEGORICAL)) for column in FEATURES
    ]
    columns.append(("__score__", _WindowBinning(pd.Series(probability), categorical=False)))
    rows = []
    for week in np.unique(weeks[weeks >= np.datetime64(since, "D")]):
        current = weeks == week
        before = (weeks < week) & (weeks >= week - np.timedelta64(7 * weeks_back, "D"))
        if not before.any():
            continue
        for column, binning in columns:
            bin_of, size = binning.against(before)
            measure = "score_shift" if column == "__score__" else "feature_shift"
            ref_counts = np.bincount(bin_of(before), minlength=size)
            counts = np.bincount(bin_of(current), minlength=size)
            rows.append(_row(week.item(), measure, column, ref_counts, counts, params))
    return pd.DataFrame(rows)


class _WindowBinning:
    """One column, converted once, binned against many reference windows exactly as `_bins` bins it.

    A code column becomes the code of each value's text (-1 where missing), so a window's levels are the
    sorted texts of the codes it holds; a numeric column becomes floats, whose window deciles or values
    give the edges."""

    def __init__(self, values: pd.Series, categorical: bool):
        self.categorical = categorical
        if categorical:
            text = values.astype(str)
            codes, uniques = pd.factorize(text, use_na_sentinel=True)
            self.codes = np.asarray(codes)
            self.present = ~values.isna().to_numpy()  # `_bins` drops missing reference values before .astype(str)
            texts = [str(u) for u in uniques]
            order = {t: k for k, t in enumerate(sorted(texts))}
            self.text_rank = np.array([order[t] for t in texts], dtype=np.int64)
        else:
            self.floats = values.astype(float).to_numpy()

    def against(self, reference: np.ndarray) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
        """(bin index of the values under a mask, number of bins), the bins defined by the rows in `reference`."""
        if self.categorical:
            held = np.unique(self.codes[reference & self.present])
            held = held[held >= 0]
            levels = held[np.argsort(self.text_rank[held], kind="stable")]
            other = len(levels)
            bin_of_code = np.full(len(self.text_rank) + 1, other, dtype=np.int64)  # the last slot: code -1
            bin_of_code[levels] = np.arange(other)
            return (lambda mask: bin_of_code[self.codes[mask]]), other + 1
        edges = _edges(self.floats[reference])
        return (lambda mask: np.searchsorted(edges, self.floats[mask], side="left")), len(edges) + 1


def weekly_calibration(frame: pd.DataFrame, probability: np.ndarray, min_week: int = MIN_WEEK) -> pd.DataFrame:
    """Per received week with enough labelled referrals: ECE, mean predicted and observed positive rate."""
    labelled = frame["label"].notna().to_numpy()
    if not labelled.any():
        return pd.DataFrame(columns=["week", "labelled", "ece", "predicted", "observed"])
    weeks = pd.to_datetime(frame.loc[labelled, "received_date"]).dt.to_period("W-SUN").dt.start_time.dt.date
    table = pd.DataFrame(
        {"week": weeks.to_numpy(), "p": probability[labelled], "y": frame.loc[labelled, "label"].astype(int).to_numpy()}
    )
    rows = [
        {
            "week": week,
            "labelled": len(group),
            "ece": expected_calibration_error(group["p"].to_numpy(), group["y"].to_numpy()),
            "predicted": float(group["p"].mean()),
            "observed": float(group["y"].mean()),
        }
        for week, group in table.groupby("week", sort=True)
        if len(group) >= min_week
    ]
    return pd.DataFrame(rows, columns=["week", "labelled", "ece", "predicted", "observed"])


REVIEW_COLUMNS = ("referral_key", "label", "reviewed_at")
CALIBRATION_COLUMNS = ["week", "labelled", "ece", "predicted", "observed"]
RELIABILITY_COLUMNS = ["quarter", "bin", "count", "predicted", "observed"]


@dataclass(frozen=True)
class Monitoring:
    """Everything `monitor_model` measures for one model (each frame may be empty)."""

    drift: pd.DataFrame  # week, measure, feature, value, noise, referrals, drifted
    calibration: pd.DataFrame  # CALIBRATION_COLUMNS, on the labels known now (closed outcomes)
    reviewed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CALIBRATION_COLUMNS))
    reliability: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RELIABILITY_COLUMNS))


def reviewed_labels(frame: pd.DataFrame, reviews: pd.DataFrame) -> pd.Series:
    """The reviewed label (0/1, missing when never reviewed) of each referral of `frame`, from a frame of
    reviews (referral_key, label, reviewed_at): a referral's latest review counts."""
    missing = [c for c in REVIEW_COLUMNS if c not in reviews.columns]
    if missing:
        raise ValueError(f"reviews: missing column(s) {', '.join(missing)}")
    latest = (
        reviews.assign(referral_key=reviews["referral_key"].map(key_text))
        .sort_values(["referral_key", "reviewed_at"], kind="mergesort")
        .drop_duplicates("referral_key", keep="last")
        .set_index("referral_key")["label"]
    )
    return pd.Series(
        frame["referral_key"].map(key_text).map(latest).to_numpy(), index=frame.index, dtype="Int64", name="label"
    )


def latest_full_quarter(received: pd.Series) -> pd.Period | None:
    """The latest calendar quarter that ends on or before the last received date (None when there is none)."""
    if received.empty:
        return None
    last = pd.Timestamp(pd.to_datetime(received).max())
    quarter = last.to_period("Q")
    if last.normalize() < quarter.end_time.normalize():
        quarter -= 1
    first = pd.Timestamp(pd.to_datetime(received).min()).to_period("Q")
    return quarter if quarter >= first else None


def quarter_reliability(frame: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    """The reliability curve of the latest full quarter of `frame` on its known labels (RELIABILITY_COLUMNS)."""
    received = pd.to_datetime(frame["received_date"])
    quarter = latest_full_quarter(received)
    if quarter is None:
        return pd.DataFrame(columns=RELIABILITY_COLUMNS)
    inside = (received.dt.to_period("Q") == quarter).to_numpy() & frame["label"].notna().to_numpy()
    if not inside.any():
        return pd.DataFrame(columns=RELIABILITY_COLUMNS)
    table = reliability(probability[inside], frame.loc[inside, "label"].astype(int).to_numpy())
    table.insert(0, "quarter", quarter.start_time.date())
    return table[RELIABILITY_COLUMNS]


def monitor_model(
    model: ScoringModel,
    frame: pd.DataFrame,
    windows_card: dict,
    since: date | None = None,
    params: DriftParams = DriftParams(),
    reviews: pd.DataFrame | None = None,
) -> Monitoring:
    """Drift, calibration (known labels; reviewed labels when `reviews` is given) and the latest full
    quarter's reliability curve of `model` on the referrals received after its test window (or since
    `since`), against its training window (features) and test window (scores)."""
    received = pd.to_datetime(frame["received_date"]).dt.date
    train_start = date.fromisoformat(windows_card["start"])
    train_end = date.fromisoformat(windows_card["train_end"])
    test_start = date.fromisoformat(windows_card["calibration_end"])
    test_end = date.fromisoformat(windows_card["test_end"])
    first = since or test_start
    in_reference = ((received >= train_start) & (received < train_end)).to_numpy()
    in_test = ((received >= test_start) & (received < test_end)).to_numpy()
    in_watched = (received >= first).to_numpy()
    in_recent = (received >= first - timedelta(weeks=SHIFT_WEEKS + 1)).to_numpy()
    reference, watched = frame.loc[in_reference], frame.loc[in_watched]
    with_drift = in_reference.any() and in_test.any() and in_watched.any()
    # Scored once: a referral's probability does not depend on the rows scored with it.
    scored = in_watched | in_test | in_recent if with_drift else in_watched
    scores = model.predict(frame.loc[scored]) if scored.any() else np.empty(0)

    def probability_of(rows: np.ndarray) -> np.ndarray:
        return scores[rows[scored]]

    probability = probability_of(in_watched)
    calibration = weekly_calibration(watched, probability, params.min_week)
    if not with_drift:
        drift = pd.DataFrame(columns=["week", "measure", "feature", "value", "noise", "referrals", "drifted"])
    else:
        drift = weekly_drift(watched, reference, probability, probability_of(in_test), params)
        recent = frame.loc[in_recent].reset_index(drop=True)
        drift = pd.concat([drift, weekly_shift(recent, probability_of(in_recent), first, params)], ignore_index=True)
    result = Monitoring(drift, calibration)
    if watched.empty:
        return result
    reviewed = pd.DataFrame(columns=CALIBRATION_COLUMNS)
    if reviews is not None:
        relabelled = watched.assign(label=reviewed_labels(watched, reviews))
        reviewed = weekly_calibration(relabelled, probability, params.min_week)
    return Monitoring(drift, calibration, reviewed, quarter_reliability(watched, probability))


def monitor(
    model: ScoringModel,
    frame: pd.DataFrame,
    windows_card: dict,
    since: date | None = None,
    params: DriftParams = DriftParams(),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weekly drift, weekly calibration) of `model`: `monitor_model` without reviews or reliability."""
    found = monitor_model(model, frame, windows_card, since, params)
    return found.drift, found.calibration
