"""Federated rounds in one process: the reference computation of what the Flower deployment does.

Each round every agency trains locally from the global weights (`federation.learning.train_locally`, with
FedProx's proximal term and DP-GD when configured) and the updates are aggregated: FedAvg (example-weighted
mean), or a robust rule (`federation.robust`). The Flower processes (`federation/flower/`) run the same
local update and the same aggregation over the network; this loop exists so that the benchmark can compare
many configurations side by side (pooled, local-only, federated, private, poisoned) in one run, and a test
holds the deployment to it.

A poisoned agency (`ATTACKS`) sends either its update scaled by −`SCALE` (a model-replacement attack pushing
the global model away from where the honest agencies lead) or an update trained on flipped labels.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from federation.learning import NodeData, TrainingConfig, Weights, fedavg, initial_weights, train_locally
from federation.privacy import PrivacyConfig, epsilon_spent
from federation.robust import krum, trimmed_mean

STRATEGIES = ("fedavg", "fedprox", "trimmed-mean", "krum")
ATTACKS = ("scaled", "label-flip")
SCALE = 10.0


@dataclass(frozen=True)
class FederationConfig:
    rounds: int = 5
    strategy: str = "fedavg"
    training: TrainingConfig = TrainingConfig()
    proximal_mu: float = 0.1  # FedProx only
    privacy: PrivacyConfig | None = None
    trim: int = 1  # trimmed mean: updates dropped at each end, per coordinate
    byzantine: int = 1  # Krum: the number of poisoned agencies it tolerates
    seed: int = 0

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.rounds < 1:
            raise ValueError(f"rounds must be at least 1, got {self.rounds}")


@dataclass(frozen=True)
class RoundRecord:
    """What a round's observers see: never data, only sizes, times and who took part."""

    round: int
    nodes: tuple[str, ...]
    bytes_sent: int  # updates from the agencies to the hub
    seconds: float


@dataclass(frozen=True)
class FederatedResult:
    weights: Weights
    rounds: tuple[RoundRecord, ...]
    epsilon: float | None  # (ε at the configured δ) spent per agency; None without DP
    delta: float | None = None
    lineage: dict = field(default_factory=dict)


def _poisoned(kind: str, global_weights: Weights, data: NodeData, config: FederationConfig, seed: int) -> Weights:
    if kind == "label-flip":
        return train_locally(global_weights, NodeData(data.X, 1 - data.y), _training(config), config.privacy, seed)
    honest = train_locally(global_weights, data, _training(config), config.privacy, seed)
    return [g - SCALE * (h - g) for g, h in zip(global_weights, honest)]


def _training(config: FederationConfig) -> TrainingConfig:
    if config.strategy != "fedprox":
        return config.training
    return TrainingConfig(
        config.training.steps, config.training.learning_rate, config.training.l2, proximal_mu=config.proximal_mu
    )


def aggregate(config: FederationConfig, updates: list[tuple[Weights, int]]) -> Weights:
    """The configured aggregation of (weights, examples) updates."""
    if config.strategy in ("fedavg", "fedprox"):
        return fedavg(updates)
    if config.strategy == "trimmed-mean":
        return trimmed_mean([w for w, _ in updates], config.trim)
    return krum([w for w, _ in updates], config.byzantine)


def run_rounds(
    train_sets: Mapping[str, NodeData], config: FederationConfig, attacks: Mapping[str, str] | None = None
) -> FederatedResult:
    """`config.rounds` rounds over every agency with training data (see the module docstring)."""
    attacks = dict(attacks or {})
    unknown = sorted(set(attacks.values()) - set(ATTACKS))
    if unknown:
        raise ValueError(f"attack(s) {', '.join(unknown)}: use {', '.join(ATTACKS)}")
    nodes = tuple(sorted(code for code, data in train_sets.items() if len(data)))
    weights = initial_weights()
    records = []
    for number in range(1, config.rounds + 1):
        started = time.perf_counter()
        updates = []
        for k, code in enumerate(nodes):
            seed = config.seed * 1_000_003 + number * 1009 + k
            if code in attacks:
                update = _poisoned(attacks[code], weights, train_sets[code], config, seed)
            else:
                update = train_locally(weights, train_sets[code], _training(config), config.privacy, seed)
            updates.append((update, len(train_sets[code])))
        weights = aggregate(config, updates)
        sent = sum(int(sum(part.nbytes for part in update)) for update, _ in updates)
        records.append(RoundRecord(number, nodes, sent, time.perf_counter() - started))
    epsilon = None
    if config.privacy is not None:
        epsilon = epsilon_spent(
            config.privacy.noise_multiplier, config.rounds * config.training.steps, config.privacy.delta
        )
    lineage = {
        "strategy": config.strategy,
        "rounds": config.rounds,
        "nodes": list(nodes),
        "steps_per_round": config.training.steps,
        "epsilon": epsilon,
        "delta": config.privacy.delta if config.privacy else None,
        "poisoned": sorted(attacks),
    }
    return FederatedResult(
        [np.asarray(part) for part in weights],
        tuple(records),
        epsilon,
        config.privacy.delta if config.privacy else None,
        lineage,
    )
