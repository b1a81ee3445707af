"""An agency adopts the federation's global model: as it is, or fine-tuned on its own referrals.

The global model (`model.npz` + `lineage.json`, `federation/model_store.py`) becomes a
`classification.linear.LinearTriageModel` in the agency's own model registry, as a candidate with a model
card that carries its lineage (run, strategy, rounds, agencies, ε when trained with DP) and, for
fine-tuning, how many local steps on how many referrals. It is evaluated on the agency's own test window
exactly like a centrally trained model (`classification.evaluation`: AP, precision of the top 10 %,
calibration, review savings), so `grace model list` compares them side by side; `--promote` makes it the
model that scores new batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from classification import registry
from classification.evaluation import evaluate
from classification.features import referral_features
from classification.linear import LinearTriageModel, encode
from classification.model import default_windows, split
from classification.scoring import active_rules
from federation.learning import NodeData, TrainingConfig, train_locally
from federation.model_store import read_global_model
from grace import __version__
from warehouse import check_schema, connect


@dataclass(frozen=True)
class Adopted:
    version: str
    card: dict
    replaced: str | None  # the previously active version, when promoted


def adopt_global_model(model_dir: Path, warehouse: Path, fine_tune_steps: int = 0, promote: bool = False) -> Adopted:
    """Register the global model in `warehouse`'s registry (see the module docstring)."""
    weights, lineage = read_global_model(model_dir)
    con = connect(warehouse)
    try:
        check_schema(con, warehouse)
        frame = referral_features(con)
        windows = default_windows(frame)
        parts = split(frame, windows)
        tuned: dict = {}
        if fine_tune_steps > 0:
            local = parts["train"]
            data = NodeData(encode(local), local["label"].astype(np.int8).to_numpy())
            weights = train_locally(weights, data, TrainingConfig(steps=fine_tune_steps))
            tuned = {
                "steps": fine_tune_steps,
                "referrals": len(data),
                "window": [windows.start.isoformat(), windows.train_end.isoformat()],
            }
        model = LinearTriageModel(
            np.asarray(weights[0], dtype=float),
            float(np.asarray(weights[1]).ravel()[0]),
            lineage={"federated": _summary(lineage, model_dir), "fine_tuned": tuned or None},
            params={"local_steps": lineage.get("config", {}).get("local-steps"), "fine_tune_steps": fine_tune_steps},
        )
        base_rate = float(parts["train"]["label"].mean()) if len(parts["train"]) else float("nan")
        card = {
            "kind": "triage-federated",
            "created_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "code_version": __version__,
            "estimator": "logistic regression on hashed triage features, trained by federated learning"
            + (", fine-tuned locally" if tuned else ""),
            "lineage": model.lineage,
            "windows": windows.as_dict(),
            "rows": {name: len(part) for name, part in parts.items()},
            "positives": {name: int(part["label"].sum()) for name, part in parts.items()},
            "test": evaluate(model, parts["test"], active_rules(con), base_rate) if len(parts["test"]) else {},
        }
        version = registry.register(con, model, card)
        replaced = registry.promote(con, version) if promote else None
    finally:
        con.close()
    return Adopted(version, card, replaced)


def _summary(lineage: dict, model_dir: Path) -> dict:
    """What the model card keeps of a federated run's lineage."""
    dp = lineage.get("differential_privacy") or {}
    return {
        "model_dir": str(model_dir),
        "run_id": lineage.get("run_id"),
        "strategy": lineage.get("strategy") or lineage.get("config", {}).get("strategy"),
        "rounds": lineage.get("rounds_completed"),
        "nodes": lineage.get("nodes"),
        "agencies": lineage.get("agencies"),
        "epsilon": dp.get("epsilon"),
        "delta": dp.get("delta"),
        "dp_unit": dp.get("unit"),
        "dp_noise_multiplier": dp.get("noise_multiplier"),
        "secure_aggregation": lineage.get("secure_aggregation"),
    }
