"""The settings of one federated training run: what `grace federation train` sends and the hub's ServerApp reads.

One table (`RUN_CONFIG`) gives every key, its default and what it means. The same table writes the Flower
app's `[tool.flwr.app.config]` (Flower only accepts overrides of keys declared there) and parses the run
configuration the ServerApp receives, so the two cannot drift. No Flower import here: the command line
reads this module without loading Flower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grace.errors import GraceError

STRATEGIES = ("fedavg", "fedprox", "trimmed-mean", "krum")
DEFAULT_FEDPROX_MU = 0.1

# key: (default, help). Types follow the defaults (TOML int, float, str, bool).
RUN_CONFIG: dict[str, tuple[Any, str]] = {
    "num-server-rounds": (3, "rounds of training (each: local training at every sampled node, then evaluation)"),
    "strategy": ("fedavg", "aggregation: fedavg, fedprox, trimmed-mean or krum"),
    "proximal-mu": (0.0, "FedProx's proximal weight mu; > 0 with fedavg turns it into fedprox"),
    "fraction-train": (1.0, "share of connected nodes sampled for training each round"),
    "fraction-evaluate": (1.0, "share of connected nodes sampled for evaluation each round"),
    "min-nodes": (2, "nodes that must be connected before a round starts (and sampled at least)"),
    "wait-for-nodes": (120.0, "seconds to wait for min-nodes to connect before the run fails"),
    "round-timeout": (600.0, "seconds to wait for the nodes' replies in one round"),
    "local-steps": (60, "gradient steps of local training per round"),
    "learning-rate": (0.5, "local learning rate"),
    "l2": (1e-4, "L2 penalty of local training"),
    "trim-beta": (0.2, "trimmed-mean: share cut at each end, per coordinate"),
    "krum-malicious": (1, "Krum: number of malicious nodes tolerated"),
    "dp-noise-multiplier": (0.0, "client-side DP: Gaussian noise multiplier (> 0 with dp-clipping-norm turns DP on)"),
    "dp-clipping-norm": (0.0, "client-side DP: L2 norm each node's update is clipped to"),
    "dp-delta": (1e-5, "client-side DP: delta of the (epsilon, delta) reported"),
    "dp-target-epsilon": (
        0.0,
        "client-side DP: the epsilon to spend over num-server-rounds at dp-delta; sets the noise multiplier "
        "(instead of dp-noise-multiplier; needs dp-clipping-norm)",
    ),
    "output-dir": ("", "folder for the global model and its lineage [default: $GRACE_HOME/federation/models/run-<id>]"),
    "observability-file": ("", "JSON-lines file of rounds [default: $GRACE_HOME/federation/rounds.jsonl]"),
}


class RunConfigError(GraceError):
    """A run setting is unknown or out of range."""


@dataclass(frozen=True)
class RunSettings:
    """The parsed, checked run configuration."""

    rounds: int
    strategy: str
    proximal_mu: float
    fraction_train: float
    fraction_evaluate: float
    min_nodes: int
    wait_for_nodes: float
    round_timeout: float
    local_steps: int
    learning_rate: float
    l2: float
    trim_beta: float
    krum_malicious: int
    dp_noise_multiplier: float
    dp_clipping_norm: float
    dp_delta: float
    dp_target_epsilon: float
    output_dir: str
    observability_file: str

    @property
    def dp(self) -> bool:
        """Client-side differential privacy is on (clipping at the nodes, Gaussian noise at the hub)."""
        return self.dp_noise_multiplier > 0 and self.dp_clipping_norm > 0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RunSettings:
        unknown = sorted(set(config) - set(RUN_CONFIG))
        if unknown:
            raise RunConfigError(f"unknown run setting(s): {', '.join(unknown)}")
        merged = {key: config.get(key, default) for key, (default, _) in RUN_CONFIG.items()}
        strategy = str(merged["strategy"]).lower()
        if strategy not in STRATEGIES:
            raise RunConfigError(f"strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
        mu = float(merged["proximal-mu"])
        if strategy == "fedavg" and mu > 0:
            strategy = "fedprox"
        if strategy == "fedprox" and mu <= 0:
            mu = DEFAULT_FEDPROX_MU
        rounds = int(merged["num-server-rounds"])
        noise = float(merged["dp-noise-multiplier"])
        target = float(merged["dp-target-epsilon"])
        delta = float(merged["dp-delta"])
        if target:
            noise = _noise_for_target(target, noise, float(merged["dp-clipping-norm"]), rounds, delta)
        settings = cls(
            rounds=rounds,
            strategy=strategy,
            proximal_mu=mu,
            fraction_train=float(merged["fraction-train"]),
            fraction_evaluate=float(merged["fraction-evaluate"]),
            min_nodes=int(merged["min-nodes"]),
            wait_for_nodes=float(merged["wait-for-nodes"]),
            round_timeout=float(merged["round-timeout"]),
            local_steps=int(merged["local-steps"]),
            learning_rate=float(merged["learning-rate"]),
            l2=float(merged["l2"]),
            trim_beta=float(merged["trim-beta"]),
            krum_malicious=int(merged["krum-malicious"]),
            dp_noise_multiplier=noise,
            dp_clipping_norm=float(merged["dp-clipping-norm"]),
            dp_delta=delta,
            dp_target_epsilon=target,
            output_dir=str(merged["output-dir"]),
            observability_file=str(merged["observability-file"]),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if self.rounds < 1:
            raise RunConfigError("num-server-rounds must be at least 1")
        if not (0 < self.fraction_train <= 1 and 0 <= self.fraction_evaluate <= 1):
            raise RunConfigError("fraction-train must be in (0, 1] and fraction-evaluate in [0, 1]")
        if self.min_nodes < 1:
            raise RunConfigError("min-nodes must be at least 1")
        if self.local_steps < 1 or self.learning_rate <= 0:
            raise RunConfigError("local-steps must be at least 1 and learning-rate positive")
        if not 0 <= self.trim_beta < 0.5:
            raise RunConfigError("trim-beta must be in [0, 0.5)")
        if self.dp_noise_multiplier < 0 or self.dp_clipping_norm < 0:
            raise RunConfigError("dp-noise-multiplier and dp-clipping-norm cannot be negative")
        if (self.dp_noise_multiplier > 0) != (self.dp_clipping_norm > 0):
            raise RunConfigError("client-side DP needs both dp-noise-multiplier and dp-clipping-norm above 0")
        if not 0 < self.dp_delta < 1:
            raise RunConfigError(f"dp-delta must be in (0, 1), got {self.dp_delta}")

    def check_secure_aggregation(self) -> None:
        """Refuse what SecAgg+ (`federation.flower.secagg_app`) cannot run: it hides every individual update,
        so only a mean can be computed (FedAvg; no FedProx on Flower's legacy path, no trimmed mean or Krum,
        which need the updates themselves), and a sum of fewer than two nodes is one node's update."""
        if self.strategy != "fedavg":
            raise RunConfigError(
                f"secure aggregation (SecAgg+) runs FedAvg only, not {self.strategy}: robust rules need the "
                "individual updates SecAgg+ hides, and Flower's legacy SecAgg+ workflow has no FedProx"
            )
        if self.min_nodes < 2:
            raise RunConfigError(
                "secure aggregation (SecAgg+) needs min-nodes of at least 2 (the sum of one node's update is that update)"
            )
        if self.dp and self.fraction_train < 1:
            raise RunConfigError(
                "SecAgg+ with DP trains every connected node each round (fraction-train 1): the ε reported "
                "takes no credit for sampling, and the noise is set for the nodes that take part"
            )

    def as_dict(self) -> dict[str, Any]:
        """The settings with the run configuration's key names (for the lineage)."""
        return {
            "num-server-rounds": self.rounds,
            "strategy": self.strategy,
            "proximal-mu": self.proximal_mu,
            "fraction-train": self.fraction_train,
            "fraction-evaluate": self.fraction_evaluate,
            "min-nodes": self.min_nodes,
            "local-steps": self.local_steps,
            "learning-rate": self.learning_rate,
            "l2": self.l2,
            "trim-beta": self.trim_beta,
            "krum-malicious": self.krum_malicious,
            "dp-noise-multiplier": self.dp_noise_multiplier,
            "dp-clipping-norm": self.dp_clipping_norm,
            "dp-delta": self.dp_delta,
            "dp-target-epsilon": self.dp_target_epsilon,
        }


def _noise_for_target(target: float, noise: float, clipping_norm: float, rounds: int, delta: float) -> float:
    """The noise multiplier that spends `target` ε over `rounds` releases (one per round) at `delta`."""
    if not (target > 0 and math.isfinite(target)):
        raise RunConfigError(f"dp-target-epsilon must be a positive number, got {target}")
    if noise:
        raise RunConfigError("give dp-target-epsilon or dp-noise-multiplier, not both (the target sets the noise)")
    if clipping_norm <= 0:
        raise RunConfigError("dp-target-epsilon needs dp-clipping-norm above 0 (the noise is a multiple of it)")
    if not 0 < delta < 1:
        raise RunConfigError(f"dp-delta must be in (0, 1), got {delta}")
    if rounds < 1:
        raise RunConfigError("num-server-rounds must be at least 1")
    from federation.privacy import noise_for_epsilon  # dp-accounting, loaded only when a target is given

    try:
        return noise_for_epsilon(target, rounds, delta)
    except ValueError as error:
        raise RunConfigError(f"dp-target-epsilon {target}: {error}") from error


def toml_value(value: Any) -> str:
    """A value as TOML (bool, int, float or a basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
