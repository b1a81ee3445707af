"""A linear triage model: hashed triage features and a logistic regression's weights, ready to score.

This is the model federated learning trains (`federation/learning.py`): a logistic regression averages
where trees do not. It lives here, beside the central model, so that the model registry can store and load
it and the ETL's scoring stage can use it like any triage model (`predict`, `explain`), whoever trained it.

Encoding (`encode`) uses no statistic of any data set, so every agency gets the same columns without
sharing anything: categorical codes hashed into `HASH_BUCKETS` one-hot buckets per feature (an unseen
platform still has a column), booleans 0/1, counts log1p-scaled.

Explanations are exact for a linear model: a feature group's effect is the sum of weight × value over its
encoded columns, in log-odds (relative to a referral whose features are all zero).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from classification.features import BOOLEAN, CATEGORICAL, GROUPS, NUMERIC

HASH_BUCKETS = 32
N_FEATURES = len(CATEGORICAL) * HASH_BUCKETS + len(BOOLEAN) + len(NUMERIC)


def _bucket(name: str, value: object) -> int:
    digest = hashlib.sha256(f"{name}={value}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % HASH_BUCKETS


def encode(frame: pd.DataFrame) -> np.ndarray:
    """The linear model's input for a frame of referral features (see the module docstring)."""
    X = np.zeros((len(frame), N_FEATURES), dtype=np.float32)
    for k, name in enumerate(CATEGORICAL):
        values = frame[name].astype("string").fillna("<missing>")
        codes = {value: _bucket(name, value) for value in values.unique()}  # few distinct codes: hash each once
        columns = values.map(codes).to_numpy(dtype=np.int64) + k * HASH_BUCKETS
        X[np.arange(len(frame)), columns] = 1.0
    start = len(CATEGORICAL) * HASH_BUCKETS
    for k, name in enumerate(BOOLEAN):
        X[:, start + k] = frame[name].astype(float).fillna(0.0).to_numpy()
    start += len(BOOLEAN)
    for k, name in enumerate(NUMERIC):
        X[:, start + k] = np.log1p(np.clip(frame[name].astype(float).fillna(0.0).to_numpy(), 0.0, None))
    return X


def feature_columns() -> dict[str, list[int]]:
    """Each raw feature's encoded columns."""
    columns: dict[str, list[int]] = {}
    for k, name in enumerate(CATEGORICAL):
        columns[name] = list(range(k * HASH_BUCKETS, (k + 1) * HASH_BUCKETS))
    start = len(CATEGORICAL) * HASH_BUCKETS
    for k, name in enumerate((*BOOLEAN, *NUMERIC)):
        columns[name] = [start + k]
    return columns


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


@dataclass
class LinearTriageModel:
    """A logistic regression over `encode`d features: what the registry stores for a federated model."""

    coefficients: np.ndarray  # (N_FEATURES,)
    intercept: float
    lineage: dict = field(default_factory=dict)  # how it was trained: rounds, agencies, ε, fine-tuning
    seed: int = 0
    calibration_method: str = "none (logistic regression)"
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if np.shape(self.coefficients) != (N_FEATURES,):
            raise ValueError(
                f"a linear triage model needs {N_FEATURES} coefficients, got {np.shape(self.coefficients)}"
            )

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability that the referral leads to an investigation or an arrest."""
        if frame.empty:
            return np.empty(0)
        return sigmoid(encode(frame).astype(float) @ self.coefficients + self.intercept)

    def explain(self, frame: pd.DataFrame, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per referral, the `top` feature groups that raise its log-odds most (group, log-odds added)."""
        if frame.empty:
            return []
        X = encode(frame).astype(float)
        columns = feature_columns()
        names = list(GROUPS)
        effects = np.zeros((len(frame), len(names)))
        for k, features in enumerate(GROUPS.values()):
            idx = [column for feature in features for column in columns[feature]]
            effects[:, k] = X[:, idx] @ self.coefficients[idx]
        order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
        return [
            [(names[j], round(float(effects[i, j]), 3)) for j in order[i] if effects[i, j] > 0.005]
            for i in range(len(frame))
        ]
