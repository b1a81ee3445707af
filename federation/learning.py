"""The federable triage model: logistic regression on the triage features, trained locally in numpy.

Why not the central triage model (a gradient-boosted tree ensemble): trees do not average. A logistic
regression's weights do, so FedAvg, FedProx, trimmed means and Krum all apply, and so do clipping and
Gaussian noise for differential privacy.

Features are the central model's (`classification.features`), encoded by `classification.linear.encode` so
that every agency gets the same columns without sharing anything first (hashed categorical codes, 0/1
booleans, log1p counts): no statistic crosses a border before training. The trained weights become a
`classification.linear.LinearTriageModel`, which the model registry stores and the ETL scores with.

Local training (`train_locally`) is full-batch gradient descent on the mean log-loss plus an L2 penalty and,
for FedProx, the proximal term (mu / 2)·||w − w_global||² (taken as a proximal step, stable for any mu).
Deterministic: no sampling, a fixed number of steps. Evaluation (`evaluate`): ROC AUC, and macro-F1 at the threshold that flags as many referrals as the
evaluation data has positives (prevalence-matched, so a model is not judged by an arbitrary 0.5 cut).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

from classification.features import referral_features
from classification.linear import N_FEATURES, encode, sigmoid
from federation.privacy import PrivacyConfig, clipped_gradient_sum, gaussian_noise
from warehouse import connect

Weights = list[np.ndarray]  # [coefficients (N_FEATURES,), intercept (1,)], float64


@dataclass(frozen=True)
class TrainingConfig:
    """One local update: `steps` of gradient descent at `learning_rate`; `proximal_mu` > 0 is FedProx."""

    steps: int = 60
    learning_rate: float = 0.5
    l2: float = 1e-4
    proximal_mu: float = 0.0


@dataclass(frozen=True)
class NodeData:
    """One agency's labelled referrals, encoded: X (n, N_FEATURES) float32, y (n,) 0/1."""

    X: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def split(self, test_share: float = 0.25) -> tuple[NodeData, NodeData]:
        """Train and test parts: the last `test_share` of the rows in time order is the test part."""
        cut = round(len(self) * (1 - test_share))
        return NodeData(self.X[:cut], self.y[:cut]), NodeData(self.X[cut:], self.y[cut:])


def node_dataset(warehouse: Path | str) -> NodeData:
    """An agency's labelled referrals from its own warehouse, in time order (opened read-only)."""
    con = connect(Path(warehouse), read_only=True)
    try:
        frame = referral_features(con)
    finally:
        con.close()
    labelled = frame[frame["label"].notna()].sort_values(["received_date", "referral_key"], kind="stable")
    return NodeData(encode(labelled), labelled["label"].astype(np.int8).to_numpy())


def initial_weights() -> Weights:
    return [np.zeros(N_FEATURES), np.zeros(1)]


def predict(weights: Weights, X: np.ndarray) -> np.ndarray:
    """Probability of an actionable outcome for each row of X."""
    return sigmoid(X @ weights[0] + weights[1][0])


def train_locally(
    weights: Weights,
    data: NodeData,
    config: TrainingConfig = TrainingConfig(),
    privacy: PrivacyConfig | None = None,
    seed: int = 0,
) -> Weights:
    """`config.steps` of full-batch gradient descent from `weights` (the global model) on one agency's data.

    With `privacy`, each step is DP-GD (`federation.privacy`): per-referral gradients clipped, Gaussian noise
    added to their sum, drawn from a generator seeded by `seed`."""
    if not len(data):
        return [w.copy() for w in weights]
    anchor_coef, anchor_bias = weights[0], weights[1]
    coef, bias = weights[0].astype(float).copy(), weights[1].astype(float).copy()
    X, y = data.X.astype(float), data.y.astype(float)
    n = len(y)
    rng = np.random.default_rng(seed)
    for _ in range(config.steps):
        error = sigmoid(X @ coef + bias[0]) - y
        if privacy is None:
            data_coef, data_bias = X.T @ error, float(error.sum())
        else:
            data_coef, data_bias = clipped_gradient_sum(X, error, privacy.clip_norm)
            noise = gaussian_noise(rng, len(coef) + 1, privacy)
            data_coef, data_bias = data_coef + noise[:-1], data_bias + float(noise[-1])
        # The proximal term is taken implicitly (a proximal step), so any mu is stable:
        # w ← (w − lr·∇loss(w) + lr·mu·w_global) / (1 + lr·mu).
        step, pull = config.learning_rate, config.learning_rate * config.proximal_mu
        coef = (coef - step * (data_coef / n + config.l2 * coef) + pull * anchor_coef) / (1 + pull)
        bias[0] = (bias[0] - step * data_bias / n + pull * anchor_bias[0]) / (1 + pull)
    return [coef, bias]


def evaluate(weights: Weights, data: NodeData) -> dict[str, float]:
    """ROC AUC, prevalence-matched macro-F1 and log-loss on `data` (AUC is NaN with one class only)."""
    if not len(data):
        return {"n": 0.0, "auc": float("nan"), "macro_f1": float("nan"), "log_loss": float("nan")}
    p = predict(weights, data.X.astype(float))
    y = data.y.astype(int)
    positives = int(y.sum())
    auc = float(roc_auc_score(y, p)) if 0 < positives < len(y) else float("nan")
    flagged = np.zeros(len(y), dtype=int)
    if positives:
        order = np.argsort(-p, kind="stable")
        flagged[order[:positives]] = 1
    macro_f1 = float(f1_score(y, flagged, average="macro", zero_division=0))
    eps = 1e-12
    log_loss = float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
    return {"n": float(len(y)), "auc": auc, "macro_f1": macro_f1, "log_loss": log_loss}


def fedavg(updates: list[tuple[Weights, int]]) -> Weights:
    """The example-weighted mean of the agencies' updated weights (FedAvg's aggregation)."""
    total = sum(n for _, n in updates)
    if total <= 0:
        raise ValueError("no examples in any update")
    return [np.sum([w[i] * (n / total) for w, n in updates], axis=0) for i in range(len(updates[0][0]))]
