"""The federated global model on disk: `model.npz` (the weights) and `lineage.json` (how it was made).

The lineage names the run, the strategy and its settings, every round (participating nodes, bytes,
seconds, the nodes' metrics) and the final metrics; never any data. Both files are written whole
(temporary file, then rename), `lineage.json` last, so a folder with a lineage holds a complete model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from federation.learning import N_FEATURES, Weights
from grace.errors import GraceError

MODEL_FILE = "model.npz"
LINEAGE_FILE = "lineage.json"


class ModelStoreError(GraceError):
    """A global-model folder is incomplete or does not hold this model's weights."""


def _replace(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_global_model(folder: Path, weights: Weights, lineage: dict[str, Any]) -> Path:
    """Write the weights and their lineage into `folder` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    coef, intercept = (np.asarray(w, dtype=np.float64) for w in weights)

    def write_npz(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            np.savez(handle, coef=coef, intercept=intercept)

    _replace(folder / MODEL_FILE, write_npz)
    _replace(
        folder / LINEAGE_FILE,
        lambda tmp: tmp.write_text(json.dumps(lineage, indent=2, sort_keys=True, allow_nan=True) + "\n"),
    )
    return folder


def read_global_model(folder: Path) -> tuple[Weights, dict[str, Any]]:
    """The weights and the lineage written by `write_global_model`."""
    lineage_path, model_path = folder / LINEAGE_FILE, folder / MODEL_FILE
    if not lineage_path.exists() or not model_path.exists():
        raise ModelStoreError(f"{folder} holds no complete global model ({MODEL_FILE} and {LINEAGE_FILE})")
    with np.load(model_path) as saved:
        coef, intercept = saved["coef"], saved["intercept"]
    if coef.shape != (N_FEATURES,) or intercept.shape != (1,):
        raise ModelStoreError(f"{model_path}: weights of shape {coef.shape}/{intercept.shape}, not this model's")
    return [coef, intercept], json.loads(lineage_path.read_text())
