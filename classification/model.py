"""The triage model: gradient boosting on features at receipt, calibrated on a later window, split by time.

Three consecutive windows of received dates, never a random split:
- **train**: referrals received before `train_end` whose label was known by then (closed before it);
- **calibrate**: received from `train_end` to `calibration_end`, labels known by `calibration_end`
  (isotonic regression on the frozen booster's scores; sigmoid when the window is small);
- **test**: received from `calibration_end` to `test_end`, every label known now — what the metrics use.

`explain` says why a referral scored as it did: for each feature group (`features.GROUPS`), how much the
booster's log-odds fall when the group is set to its typical training value (occlusion), largest first.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

from classification.features import CATEGORICAL, FEATURES, GROUPS, category_levels, feature_matrix
from classification.threads import booster_threads
from grace.errors import GraceError

MIN_LABELS = 200  # fewer labelled referrals in a window than this: refuse to train (the numbers would mislead)
ISOTONIC_MIN = 1000


class TrainingError(GraceError):
    """Not enough labelled data in a window, or windows that do not follow each other."""


@dataclass(frozen=True)
class Windows:
    """Received-date windows: train [start, train_end), calibrate [train_end, calibration_end), test [calibration_end, test_end]."""

    start: date
    train_end: date
    calibration_end: date
    test_end: date

    def __post_init__(self):
        if not self.start < self.train_end < self.calibration_end <= self.test_end:
            raise TrainingError(f"windows must follow each other: {self}")

    def as_dict(self) -> dict:
        return {name: getattr(self, name).isoformat() for name in ("start", "train_end", "calibration_end", "test_end")}


def default_windows(frame: pd.DataFrame, test_share: float = 0.2, calibration_share: float = 0.15) -> Windows:
    """Windows over the labelled referrals' received dates: the last 20 % of days for testing, the 15 %
    before for calibration, the rest for training (whole days)."""
    labelled = pd.to_datetime(frame.loc[frame["label"].notna(), "received_date"])
    if labelled.empty:
        raise TrainingError("no labelled referral (closed with a known outcome) to train on")
    first, last = labelled.min().date(), labelled.max().date()
    days = (last - first).days
    calibration_end = first + timedelta(days=int(days * (1 - test_share)))
    train_end = first + timedelta(days=int(days * (1 - test_share - calibration_share)))
    return Windows(first, train_end, calibration_end, last + timedelta(days=1))


def split(frame: pd.DataFrame, windows: Windows) -> dict[str, pd.DataFrame]:
    """The train, calibration and test rows, each with labels known at the end of its window."""
    received = pd.to_datetime(frame["received_date"]).dt.date
    known = pd.to_datetime(frame["label_date"]).dt.date
    labelled = frame["label"].notna()

    def window(low: date, high: date, cut: date) -> pd.DataFrame:
        keep = labelled & (received >= low) & (received < high) & (known < cut)
        return frame.loc[keep.to_numpy()]

    return {
        "train": window(windows.start, windows.train_end, windows.train_end),
        "calibration": window(windows.train_end, windows.calibration_end, windows.calibration_end),
        "test": window(windows.calibration_end, windows.test_end, windows.test_end + timedelta(days=36500)),
    }


class ScoringModel(Protocol):
    """What scoring, monitoring and evaluation need of a triage model, whoever trained it: the central
    `TriageModel` or a federated `classification.linear.LinearTriageModel`."""

    def predict(self, frame: pd.DataFrame) -> np.ndarray: ...

    def explain(self, frame: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]: ...


@dataclass
class TriageModel:
    """A fitted booster, its calibrator and what is needed to score and explain new referrals."""

    calibrated: CalibratedClassifierCV
    booster: HistGradientBoostingClassifier
    levels: dict[str, list[str]]
    typical: dict[str, object]
    seed: int
    calibration_method: str
    params: dict = field(default_factory=dict)

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return feature_matrix(frame, self.levels)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that the referral leads to an investigation or an arrest."""
        if frame.empty:
            return np.empty(0)
        with booster_threads():
            return self.calibrated.predict_proba(self.matrix(frame))[:, 1]

    def explain(self, frame: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per referral, the `top` feature groups that raise its log-odds most (group, log-odds added).

        A group's effect is exactly 0 where its features already hold their typical values, so the booster
        is re-run only on the rows where they do not (most rows, for the sparse groups)."""
        if frame.empty:
            return []
        with booster_threads():
            effects = self._effects(self.matrix(frame))
        names = list(GROUPS)
        order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
        return [
            [(names[j], round(float(effects[i, j]), 3)) for j in order[i] if effects[i, j] > 0.005]
            for i in range(len(frame))
        ]

    def _effects(self, matrix: pd.DataFrame) -> np.ndarray:
        """Log-odds each feature group adds to each row (rows × groups), by occluding it with typical values."""
        base = self.booster.decision_function(matrix)
        effects = np.zeros((len(matrix), len(GROUPS)))
        for k, columns in enumerate(GROUPS.values()):
            differs = np.zeros(len(matrix), dtype=bool)
            for column in columns:
                typical = self.typical[column]
                if column in CATEGORICAL:
                    differs |= (matrix[column].astype("string") != typical).fillna(True).to_numpy(dtype=bool)
                else:
                    differs |= ~np.isclose(matrix[column].to_numpy(dtype=float), float(typical))  # type: ignore[arg-type]
            rows = np.flatnonzero(differs)
            if not len(rows):
                continue
            occluded = matrix.iloc[rows].copy()
            for column in columns:
                if column in CATEGORICAL:
                    occluded[column] = pd.Categorical(
                        [self.typical[column]] * len(rows), categories=self.levels[column]
                    )
                else:
                    occluded[column] = float(self.typical[column])  # type: ignore[arg-type]
            effects[rows, k] = base[rows] - self.booster.decision_function(occluded)
        return effects


def train(frame: pd.DataFrame, windows: Windows, seed: int = 0) -> tuple[TriageModel, dict[str, pd.DataFrame]]:
    """Fit on the train window, calibrate on the next; returns the model and the three windows' rows."""
    parts = split(frame, windows)
    for name in ("train", "calibration"):
        rows = parts[name]
        if len(rows) < MIN_LABELS or rows["label"].nunique() < 2:
            raise TrainingError(
                f"{name} window {windows.as_dict()} has {len(rows)} labelled referrals "
                f"({int(rows['label'].sum()) if len(rows) else 0} positive); at least {MIN_LABELS} of both kinds needed"
            )
    levels = category_levels(parts["train"])
    params = {
        "max_iter": 250,
        "learning_rate": 0.06,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 40,
        "l2_regularization": 1.0,
    }
    booster = HistGradientBoostingClassifier(
        categorical_features="from_dtype", early_stopping=False, random_state=seed, **params
    )
    train_rows = parts["train"]
    calibration_rows = parts["calibration"]
    method = "isotonic" if len(calibration_rows) >= ISOTONIC_MIN else "sigmoid"
    calibrated = CalibratedClassifierCV(FrozenEstimator(booster), method=method)
    with booster_threads():
        booster.fit(feature_matrix(train_rows, levels), train_rows["label"].astype(int))
        calibrated.fit(feature_matrix(calibration_rows, levels), calibration_rows["label"].astype(int))
    typical: dict[str, object] = {}
    for name in FEATURES:
        column = train_rows[name]
        if name in CATEGORICAL:
            typical[name] = str(column.astype(str).mode().iloc[0])
        else:
            typical[name] = float(column.astype(float).median())
    model = TriageModel(calibrated, booster, levels, typical, seed, method, params)
    return model, parts


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the training data as used (keys, features, labels), for the model card."""
    columns = ["referral_key", "received_date", *FEATURES, "label", "label_date"]
    hashed = pd.util.hash_pandas_object(frame[columns].astype(str), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()
