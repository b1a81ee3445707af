"""Aggregation that a poisoned agency cannot steer: coordinate-wise trimmed mean and (multi-)Krum.

FedAvg takes the example-weighted mean of the updates, so one agency that sends a scaled or label-flipped
update moves the global model as far as it likes. The two rules here bound that:
- **trimmed mean**: per coordinate, drop the `trim` largest and `trim` smallest values, average the rest;
- **Krum** (Blanchard et al., 2017): keep the update(s) whose summed squared distance to their n − f − 2
  nearest neighbours is smallest, assuming at most `f` Byzantine agencies; multi-Krum averages the best m.
Both ignore example counts (a poisoned node could lie about those too).
"""

from __future__ import annotations

import numpy as np

from federation.learning import Weights


def _flat(update: Weights) -> np.ndarray:
    return np.concatenate([np.ravel(part) for part in update])


def _unflat(vector: np.ndarray, like: Weights) -> Weights:
    parts, start = [], 0
    for part in like:
        parts.append(vector[start : start + part.size].reshape(part.shape))
        start += part.size
    return parts


def trimmed_mean(updates: list[Weights], trim: int = 1) -> Weights:
    """Coordinate-wise mean after dropping the `trim` largest and smallest values of each coordinate."""
    if len(updates) <= 2 * trim:
        raise ValueError(f"trimming {trim} from each end needs more than {2 * trim} updates, got {len(updates)}")
    stacked = np.sort(np.stack([_flat(update) for update in updates]), axis=0)
    kept = stacked[trim : len(updates) - trim] if trim else stacked
    return _unflat(kept.mean(axis=0), updates[0])


def krum(updates: list[Weights], byzantine: int = 1, keep: int = 1) -> Weights:
    """The mean of the `keep` updates with the lowest Krum score (keep=1: Krum; more: multi-Krum)."""
    n = len(updates)
    neighbours = n - byzantine - 2
    if neighbours < 1:
        raise ValueError(f"Krum with {byzantine} Byzantine node(s) needs at least {byzantine + 3} updates, got {n}")
    flat = np.stack([_flat(update) for update in updates])
    distances = ((flat[:, None, :] - flat[None, :, :]) ** 2).sum(axis=2)
    scores = np.array([np.sort(np.delete(distances[i], i))[:neighbours].sum() for i in range(n)])
    chosen = np.argsort(scores, kind="stable")[:keep]
    return _unflat(flat[chosen].mean(axis=0), updates[0])
