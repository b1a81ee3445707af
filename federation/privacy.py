"""Record-level differential privacy for local training, and the (ε, δ) it spends.

Each agency protects its own referrals: local training is differentially private gradient descent
(DP-GD) — every referral's gradient is clipped to `clip_norm`, the clipped gradients are summed and Gaussian
noise of standard deviation `noise_multiplier · clip_norm` is added before the step. Every step is a
Gaussian mechanism on the whole local data set (no sampling), so the privacy spent by a training run is
the composition of `rounds × steps` Gaussian mechanisms, accounted with Rényi DP (Google's
`dp-accounting`). What leaves the agency is a function of those noisy steps, so the hub, the other agencies
and anyone who sees the global model learn no more than (ε, δ) allows about any one referral.

Stronger guarantees for small agencies are not free: noise is added to a sum, so an agency with few
referrals gets a noisier update (the benchmark reports the cost at ε = 1, 3 and 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import dp_accounting
import numpy as np
from dp_accounting import rdp

DEFAULT_DELTA = 1e-5


@dataclass(frozen=True)
class PrivacyConfig:
    """DP-GD parameters: gradients clipped to `clip_norm`, noise `noise_multiplier · clip_norm`."""

    clip_norm: float = 1.0
    noise_multiplier: float = 1.0
    delta: float = DEFAULT_DELTA


def epsilon_spent(noise_multiplier: float, steps: int, delta: float = DEFAULT_DELTA) -> float:
    """ε after `steps` full-batch Gaussian mechanisms of this noise multiplier (RDP accounting)."""
    if steps <= 0:
        return 0.0
    accountant = rdp.RdpAccountant()
    accountant.compose(dp_accounting.SelfComposedDpEvent(dp_accounting.GaussianDpEvent(noise_multiplier), steps))
    return float(accountant.get_epsilon(delta))


def noise_for_epsilon(epsilon: float, steps: int, delta: float = DEFAULT_DELTA) -> float:
    """The smallest noise multiplier (to 0.1 %) whose `steps` compose to at most ε (bisection)."""
    if epsilon <= 0:
        raise ValueError(f"ε must be positive, got {epsilon}")
    low, high = 0.05, 1.0
    while epsilon_spent(high, steps, delta) > epsilon:
        high *= 2
        if high > 1e6:
            raise ValueError(f"no noise multiplier reaches ε = {epsilon} in {steps} steps")
    while (high - low) / high > 1e-3:
        middle = (low + high) / 2
        if epsilon_spent(middle, steps, delta) > epsilon:
            low = middle
        else:
            high = middle
    return high


def clipped_gradient_sum(X: np.ndarray, error: np.ndarray, clip_norm: float) -> tuple[np.ndarray, float]:
    """Σ of the per-referral log-loss gradients (coefficients, intercept), each clipped to `clip_norm`."""
    # per-example gradient = error_i · [x_i, 1]; its norm is |error_i| · sqrt(||x_i||² + 1)
    norms = np.abs(error) * np.sqrt(np.einsum("ij,ij->i", X, X) + 1.0)
    scale = error / np.maximum(1.0, norms / clip_norm)
    return X.T @ scale, float(scale.sum())


def gaussian_noise(rng: np.random.Generator, size: int, config: PrivacyConfig) -> np.ndarray:
    return rng.normal(0.0, config.noise_multiplier * config.clip_norm, size=size)
