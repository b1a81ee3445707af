"""How good a triage score is: ranking, calibration, and the reviews it saves against first-in-first-out.

All functions take plain arrays (score, label 0/1) and are deterministic (ties broken by position).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

ECE_BINS = 10


def precision_at(score: np.ndarray, label: np.ndarray, share: float = 0.1) -> float:
    """Share of positives among the top `share` of referrals by score (ties: earlier position first)."""
    n = max(1, round(len(score) * share))
    order = np.lexsort((np.arange(len(score)), -np.asarray(score, dtype=float)))
    return float(np.asarray(label)[order[:n]].mean()) if len(score) else float("nan")


def reliability(probability: np.ndarray, label: np.ndarray, bins: int = ECE_BINS) -> pd.DataFrame:
    """Equal-width bins of predicted probability: count, mean prediction and observed rate in each."""
    probability, label = np.asarray(probability, dtype=float), np.asarray(label, dtype=float)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": probability, "observed": label})
    grouped = frame.groupby("bin").agg(
        count=("observed", "size"), predicted=("predicted", "mean"), observed=("observed", "mean")
    )
    grouped.index = grouped.index.astype(int)
    return grouped.reset_index()


def expected_calibration_error(probability: np.ndarray, label: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE: the count-weighted mean gap between predicted and observed rates over equal-width bins."""
    table = reliability(probability, label, bins)
    if table.empty:
        return float("nan")
    return float((table["count"] * (table["predicted"] - table["observed"]).abs()).sum() / table["count"].sum())


def review_savings(
    score: np.ndarray, label: np.ndarray, week: np.ndarray, order: np.ndarray, capacity_share: float = 0.1
) -> dict:
    """Each week, reviewers read the `capacity_share` of that week's referrals: by score, or first in first out
    (`order`: arrival rank). Returns positives found and reviews per positive found, both ways.
    """
    frame = pd.DataFrame(
        {"score": np.asarray(score, float), "label": np.asarray(label), "week": week, "order": np.asarray(order)}
    )
    frame["capacity"] = frame.groupby("week")["label"].transform("size").mul(capacity_share).round().clip(lower=1)
    by_score = frame.sort_values(["week", "score", "order"], ascending=[True, False, True], kind="mergesort")
    by_score["rank"] = by_score.groupby("week").cumcount()
    by_arrival = frame.sort_values(["week", "order"], kind="mergesort")
    by_arrival["rank"] = by_arrival.groupby("week").cumcount()
    reviews = int(frame.groupby("week")["capacity"].first().sum())
    found_model = int(by_score.loc[by_score["rank"] < by_score["capacity"], "label"].sum())
    found_fifo = int(by_arrival.loc[by_arrival["rank"] < by_arrival["capacity"], "label"].sum())
    per_model = reviews / found_model if found_model else float("inf")
    per_fifo = reviews / found_fifo if found_fifo else float("inf")
    return {
        "reviews": reviews,
        "found_by_score": found_model,
        "found_fifo": found_fifo,
        "reviews_per_positive": per_model,
        "reviews_per_positive_fifo": per_fifo,
        "fewer_reviews_than_fifo": 1 - per_model / per_fifo if np.isfinite(per_fifo) and per_fifo else float("nan"),
    }


def score_report(score: np.ndarray, label: np.ndarray, calibrated: bool = True) -> dict:
    """Average precision, precision of the top 10 % and its lift over the base rate, ROC AUC; for a
    calibrated probability also the Brier score and ECE."""
    score, label = np.asarray(score, dtype=float), np.asarray(label, dtype=int)
    base = float(label.mean()) if len(label) else float("nan")
    two_classes = len(np.unique(label)) == 2
    report = {
        "referrals": len(label),
        "base_rate": base,
        "average_precision": float(average_precision_score(label, score)) if two_classes else float("nan"),
        "precision_top_10pct": precision_at(score, label, 0.1),
        "roc_auc": float(roc_auc_score(label, score)) if two_classes else float("nan"),
    }
    report["lift_top_10pct"] = report["precision_top_10pct"] / base if base else float("nan")
    if calibrated:
        report["brier"] = float(brier_score_loss(label, np.clip(score, 0, 1)))
        report["ece"] = expected_calibration_error(score, label)
    return report
