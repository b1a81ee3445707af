"""The hub's aggregation strategy, chosen by the run configuration (Flower's own implementations).

- `fedavg`: FedAvg, weighted by each node's number of training examples;
- `fedprox`: FedProx (FedAvg at the hub; `proximal-mu` is sent to the nodes, whose local training adds the
  proximal term, see `federation.learning.train_locally`);
- `trimmed-mean`: FedTrimmedAvg, the coordinate-wise mean after cutting `trim-beta` at each end;
- `krum`: Krum, the one update closest to its neighbours, tolerating `krum-malicious` poisoned nodes.

With `dp-noise-multiplier` and `dp-clipping-norm` the chosen FedAvg/FedProx is wrapped in
`DifferentialPrivacyClientSideFixedClipping`: each node clips its update to the norm (its ClientApp's
`fixedclipping_mod`), the hub adds Gaussian noise to the mean. DP needs every node to weigh the same
(otherwise one node's share, not the clipping norm, bounds its influence), so under DP the mean is
unweighted (the `node-weight` metric, 1 at every node).
"""

from __future__ import annotations

import math

from flwr.app import MetricRecord, RecordDict
from flwr.serverapp.strategy import (
    DifferentialPrivacyClientSideFixedClipping,
    FedAvg,
    FedProx,
    FedTrimmedAvg,
    Krum,
    Strategy,
)

from federation.run_config import RunConfigError, RunSettings

EXAMPLES_KEY = "num-examples"
NODE_WEIGHT_KEY = "node-weight"


def _number(value: object) -> float:
    """A metric value as a float (NaN when it is missing or not a number)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def mean_ignoring_nan(records: list[RecordDict], weighting_key: str) -> MetricRecord:
    """The weighted mean of every metric over the replies, skipping a node where a metric is undefined (NaN).

    A node whose held-out data has one class only has no AUC; Flower's default mean would make the
    federation's AUC undefined because of it.
    """
    metrics = [next(iter(record.metric_records.values())) for record in records]
    weights = [_number(record.get(weighting_key)) for record in metrics]
    keys = sorted({key for record in metrics for key in record})
    out: dict[str, float] = {}
    for key in keys:
        total = weight = 0.0
        for record, w in zip(metrics, weights):
            value = _number(record.get(key))
            if math.isfinite(value) and w > 0:
                total += value * w
                weight += w
        out[key] = total / weight if weight else float("nan")
    out[weighting_key] = float(sum(w for w in weights if math.isfinite(w)))
    return MetricRecord(out)  # type: ignore[arg-type]


def build_strategy(settings: RunSettings) -> Strategy:
    """The strategy for `settings` (see the module docstring)."""
    weighting = NODE_WEIGHT_KEY if settings.dp else EXAMPLES_KEY
    common = {
        "fraction_train": settings.fraction_train,
        "fraction_evaluate": settings.fraction_evaluate,
        "min_train_nodes": settings.min_nodes,
        "min_evaluate_nodes": settings.min_nodes,
        "min_available_nodes": settings.min_nodes,
        "train_metrics_aggr_fn": mean_ignoring_nan,
        "evaluate_metrics_aggr_fn": mean_ignoring_nan,
    }
    strategy: Strategy
    if settings.strategy == "fedavg":
        strategy = FedAvg(weighted_by_key=weighting, **common)  # type: ignore[arg-type]
    elif settings.strategy == "fedprox":
        strategy = FedProx(weighted_by_key=weighting, proximal_mu=settings.proximal_mu, **common)  # type: ignore[arg-type]
    elif settings.strategy == "trimmed-mean":
        strategy = FedTrimmedAvg(weighted_by_key=EXAMPLES_KEY, beta=settings.trim_beta, **common)  # type: ignore[arg-type]
    elif settings.strategy == "krum":
        strategy = Krum(weighted_by_key=EXAMPLES_KEY, num_malicious_nodes=settings.krum_malicious, **common)  # type: ignore[arg-type]
    else:  # RunSettings checks the name; kept for a new name added there and not here
        raise RunConfigError(f"no strategy for {settings.strategy!r}")
    if settings.dp:
        if settings.strategy not in ("fedavg", "fedprox"):
            raise RunConfigError("client-side DP is wired for fedavg and fedprox only (its noise assumes a mean)")
        strategy = DifferentialPrivacyClientSideFixedClipping(
            strategy,
            noise_multiplier=settings.dp_noise_multiplier,
            clipping_norm=settings.dp_clipping_norm,
            num_sampled_clients=settings.min_nodes,
        )
    return strategy
