"""The model card: what a triage model was trained on and how it does on the test window, beside baselines.

Baselines, scored on the same test rows:
- **prevalence**: every referral gets the training base rate (no ranking at all);
- **escalated**: the case system's own `is_escalated` flag;
- **rules only**: the rule set's priority score without a model;
- **first in, first out**: referrals in order of arrival.
Review savings: each week reviewers read 10 % of that week's referrals, in score order or in arrival
order; reviews per positive found, both ways (AviaTor reports ≈ 30 % less processing time).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sklearn

from classification.features import FEATURES
from classification.metrics import reliability, review_savings, score_report
from classification.model import ScoringModel, TriageModel, Windows, data_hash
from classification.rules import RuleSet
from grace import __version__

CAPACITY_SHARE = 0.1


def evaluate(model: ScoringModel, rows: pd.DataFrame, rules: RuleSet, base_rate: float) -> dict:
    """Metrics of the model and the baselines on `rows` (labelled referrals), and the calibration curve."""
    label = rows["label"].astype(int).to_numpy()
    probability = model.predict(rows)
    arrival = np.arange(len(rows))  # rows come ordered by received date, then key
    rules_only, _, _ = rules.apply(rows, np.zeros(len(rows)))
    priority, _, _ = rules.apply(rows, probability)
    week = pd.to_datetime(rows["received_date"]).dt.to_period("W").astype(str).to_numpy()
    return {
        "model": score_report(probability, label),
        "model_with_rules": score_report(priority, label, calibrated=False),
        "baselines": {
            "prevalence": score_report(np.full(len(rows), base_rate), label),
            "escalated": score_report(rows["baseline_escalated"].astype(float).to_numpy(), label, calibrated=False),
            "rules_only": score_report(rules_only, label, calibrated=False),
            "first_in_first_out": score_report(-arrival.astype(float), label, calibrated=False),
        },
        "review_savings": review_savings(probability, label, week, arrival, CAPACITY_SHARE),
        "review_savings_with_rules": review_savings(priority, label, week, arrival, CAPACITY_SHARE),
        "reliability": reliability(probability, label).to_dict(orient="records"),
    }


def model_card(
    model: TriageModel, parts: dict[str, pd.DataFrame], windows: Windows, rules: RuleSet, frame: pd.DataFrame
) -> dict:
    """Everything the registry keeps about a trained model (JSON-ready)."""
    train_rows = parts["train"]
    base_rate = float(train_rows["label"].mean())
    return {
        "kind": "triage",
        "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "code_version": __version__,
        "sklearn_version": sklearn.__version__,
        "estimator": "HistGradientBoostingClassifier + CalibratedClassifierCV",
        "params": model.params,
        "calibration_method": model.calibration_method,
        "seed": model.seed,
        "features": list(FEATURES),
        "label": "closed with investigation_opened or arrest (1) vs closed otherwise (0); open referrals unlabelled",
        "windows": windows.as_dict(),
        "rows": {name: len(part) for name, part in parts.items()},
        "positives": {name: int(part["label"].sum()) for name, part in parts.items()},
        "data_hash": data_hash(frame.loc[frame["label"].notna()]),
        "rule_set": rules.label,
        "test": evaluate(model, parts["test"], rules, base_rate) if len(parts["test"]) else {},
    }
