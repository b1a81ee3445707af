"""Secure aggregation (SecAgg+): the hub learns only the sum of the agencies' updates, never one of them.

Flower 1.42 implements SecAgg+ only in its legacy workflow API: `SecAggPlusWorkflow` runs inside a
`DefaultWorkflow` on a `LegacyContext` with a legacy strategy (`flwr.server.strategy.FedAvg`), and the
nodes answer through a legacy `ClientApp(client_fn=…)` with `secaggplus_mod`. The Message-API strategies
(`flwr.serverapp.strategy`, used by `server_app`) cannot be combined with it. So this module is a second,
separate pair of apps that `grace federation train --secagg` submits instead of `server_app`/`client_app`:
FedAvg only (no FedProx/trimmed mean/Krum: robust rules need the individual updates SecAgg+ hides), the
same local training and evaluation, the same lineage and observability file (rounds, nodes, seconds; the
per-node metrics of evaluation; bytes are not measured on this path).

SecAgg+ quantises each update: values are clipped to ±`clipping_range` (8, far above this model's
weights) and each node's weight (its number of examples) is capped at `max_weight`.

**With differential privacy** (`dp-clipping-norm` with `dp-noise-multiplier` or `dp-target-epsilon`),
Flower's central DP with client-side clipping runs inside SecAgg+: the hub's legacy FedAvg is wrapped in
`DifferentialPrivacyClientSideFixedClipping`, which sends the clipping norm with the training
instructions and adds Gaussian noise (standard deviation z·C/n, n = `min-nodes`) to the securely
aggregated mean; each node's `fixedclipping_mod` clips its update (new − global weights) to norm C
*before* `secaggplus_mod` masks it — so `secaggplus_mod` comes first in the ClientApp's mods (the outer
one) and the clipping mod last (the one nearest the training, as Flower's docs ask: "fixedclipping_mod
should be the last to operate on params"). Under DP every node weighs the same (it reports one example,
and `max_weight` is 1, which also keeps SecAgg+'s quantisation at full precision), so C alone bounds a
node's influence on the mean; the clipping range grows with the noise so that noisy global weights are
not cut. The hub never sees an individual update, only the sum, and the noise makes the released model
(ε, δ)-DP per node (agency) and round, composed over the rounds (`federation.privacy.epsilon_spent`, one
Gaussian mechanism per round). The hub is trusted to add the noise: it sees the noiseless mean.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from flwr.app import Context
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import fixedclipping_mod, secaggplus_mod
from flwr.clientapp.typing import ClientAppCallable
from flwr.common import Message, MessageType, Metrics, ndarrays_to_parameters
from flwr.proto.node_pb2 import NodeInfo
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg, Strategy
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD, Key
from flwr.server.workflow.default_workflows import default_evaluate_workflow
from flwr.serverapp import Grid
from flwr.supercore.differential_privacy import KEY_CLIPPING_NORM
from flwr.supercore.run import Run

from federation.flower.client_app import node_data
from federation.flower.observe import append_event, payload_bytes
from federation.flower.server_app import begin_run, wait_for_nodes
from federation.learning import N_FEATURES, TrainingConfig, evaluate, initial_weights, train_locally
from federation.model_store import write_global_model
from federation.privacy import epsilon_spent
from federation.run_config import RunSettings

MAX_WEIGHT = 1e5  # examples per agency counted at most (SecAgg+ caps each node's weight)
CLIPPING_RANGE = 8.0  # SecAgg+ clips every transmitted value to ± this before quantising (far above the weights)
FIT_CONFIG_RECORD = "fitins.config"  # where Flower's legacy compatibility layer puts the training config


class AgencyClient(NumPyClient):
    """One agency's node in the legacy API: local training and evaluation on its own warehouse."""

    def __init__(self, context: Context) -> None:
        self.agency, self.train_part, self.test_part = node_data(context)

    def fit(self, parameters, config):
        training = TrainingConfig(
            steps=int(config.get("local-steps", TrainingConfig.steps)),
            learning_rate=float(config.get("learning-rate", TrainingConfig.learning_rate)),
            l2=float(config.get("l2", TrainingConfig.l2)),
        )
        weights = [np.asarray(parameters[0], dtype=np.float64), np.asarray(parameters[1], dtype=np.float64)]
        updated = train_locally(weights, self.train_part, training)
        # Under DP every node weighs the same: the clipping norm, not a node's size, bounds its influence.
        weight = 1 if KEY_CLIPPING_NORM in config else len(self.train_part)
        return updated, weight, {}

    def evaluate(self, parameters, config):
        weights = [np.asarray(parameters[0], dtype=np.float64), np.asarray(parameters[1], dtype=np.float64)]
        result = evaluate(weights, self.test_part)
        metrics = {"auc": result["auc"], "macro-f1": result["macro_f1"], "agency": self.agency}
        return float(result["log_loss"]), len(self.test_part), metrics


def client_fn(context: Context):
    return AgencyClient(context).to_client()


def optional_clipping_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Flower's (legacy) `fixedclipping_mod` when the hub sends a clipping norm with the training
    instructions (DP); otherwise nothing. Inside `secaggplus_mod`, it runs at the stage that trains."""
    if msg.metadata.message_type == MessageType.TRAIN:
        config = msg.content.config_records.get(FIT_CONFIG_RECORD)
        if config is not None and KEY_CLIPPING_NORM in config:
            return fixedclipping_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


# Order matters: the first mod is the outermost. The update is clipped (inner) before it is masked (outer).
client = ClientApp(client_fn=client_fn, mods=[secaggplus_mod, optional_clipping_mod])


def secagg_clipping_range(settings: RunSettings) -> float:
    """SecAgg+'s clipping range: 8, widened under DP by six standard deviations of the noise accumulated over
    the rounds (a random walk), so that the noisy global weights the nodes send back are not cut."""
    if not settings.dp:
        return CLIPPING_RANGE
    per_round = settings.dp_noise_multiplier * settings.dp_clipping_norm / settings.min_nodes
    return float(np.ceil(CLIPPING_RANGE + 6 * per_round * np.sqrt(settings.rounds)))


def build_legacy_strategy(settings: RunSettings, initial: list[np.ndarray], train_config: dict[str, Any]) -> Strategy:
    """Legacy FedAvg for the SecAgg+ workflow, wrapped for client-side-clipping DP when DP is on."""
    settings.check_secure_aggregation()
    strategy: Strategy = FedAvg(
        fraction_fit=settings.fraction_train,
        fraction_evaluate=settings.fraction_evaluate,
        min_fit_clients=settings.min_nodes,
        min_evaluate_clients=settings.min_nodes,
        min_available_clients=settings.min_nodes,
        initial_parameters=ndarrays_to_parameters(initial),
        on_fit_config_fn=lambda _round: dict(train_config),
        evaluate_metrics_aggregation_fn=_weighted,
    )
    if settings.dp:
        strategy = DifferentialPrivacyClientSideFixedClipping(
            strategy,
            noise_multiplier=settings.dp_noise_multiplier,
            clipping_norm=settings.dp_clipping_norm,
            num_sampled_clients=settings.min_nodes,
        )
    return strategy


def dp_lineage(settings: RunSettings, rounds: int) -> dict[str, Any] | None:
    """What the lineage records of DP on the SecAgg+ path (None without DP)."""
    if not settings.dp:
        return None
    return {
        "mode": "client-side fixed clipping inside SecAgg+, Gaussian noise added by the hub to the secure sum",
        "unit": "node (an agency's whole update in a round)",
        "noise_multiplier": settings.dp_noise_multiplier,
        "clipping_norm": settings.dp_clipping_norm,
        "noise_std": settings.dp_noise_multiplier * settings.dp_clipping_norm / settings.min_nodes,
        "target_epsilon": settings.dp_target_epsilon or None,
        "delta": settings.dp_delta,
        "releases": rounds,
        "epsilon": epsilon_spent(settings.dp_noise_multiplier, rounds, settings.dp_delta),
        "accounting": "Rényi DP (dp-accounting) of the Gaussian mechanism, node-level, no sampling amplification",
    }


def _weighted(metrics: list[tuple[int, Metrics]]) -> Metrics:
    out: dict[str, Any] = {}
    for key in ("auc", "macro-f1"):
        pairs = [(n, float(m[key])) for n, m in metrics if isinstance(m.get(key), int | float) and np.isfinite(m[key])]
        total = sum(n for n, _ in pairs)
        out[key] = sum(n * v for n, v in pairs) / total if total else float("nan")
    return out


server = ServerApp()


@server.main()
def main(grid: Grid, context: Context) -> None:
    run = begin_run(context, strategy="fedavg+secagg+")
    settings, run_id, events, output, started, base = (
        run.settings,
        run.run_id,
        run.events,
        run.output,
        run.started,
        run.base,
    )
    try:
        connected = wait_for_nodes(grid, settings)
        train_config = {"local-steps": settings.local_steps, "learning-rate": settings.learning_rate, "l2": settings.l2}
        strategy = build_legacy_strategy(settings, initial_weights(), train_config)
        legacy = LegacyContext(context, config=ServerConfig(num_rounds=settings.rounds), strategy=strategy)
        secagg: dict[str, Any] = {
            "num_shares": len(connected),
            "reconstruction_threshold": max(2, len(connected) - 1),
            "max_weight": 1.0 if settings.dp else MAX_WEIGHT,
            "clipping_range": secagg_clipping_range(settings),
        }
        clock = _RoundClock(SecAggPlusWorkflow(**secagg))
        grid = CountingGrid(grid)
        rounds: list[dict[str, Any]] = []

        def round_done(round_: int, seconds: float) -> None:
            metrics = _by_round(legacy.history.metrics_distributed).get(round_, {})
            rounds.append(
                {
                    "event": "round",
                    "run_id": run_id,
                    "round": round_,
                    "participants": len(connected),
                    "nodes": [{"node_id": node} for node in connected],
                    "seconds": round(seconds, 3),
                    "bytes_down": grid.bytes_down,
                    "bytes_up": grid.bytes_up,
                    "bytes": grid.bytes_down + grid.bytes_up,
                    "evaluate_metrics": metrics,
                    "time": time.time(),
                }
            )
            append_event(events, rounds[-1])
            grid.reset()

        clock.on_round = round_done
        DefaultWorkflow(fit_workflow=clock.fit, evaluate_workflow=clock.evaluate)(grid, legacy)
        weights = _final_weights(legacy)
        lineage = {
            "kind": "federated-triage-logistic-regression",
            "features": N_FEATURES,
            **base,
            "secure_aggregation": "SecAgg+ (Flower legacy workflow)",
            "secagg": secagg,
            "differential_privacy": dp_lineage(settings, len(rounds)),
            "rounds_completed": len(rounds),
            "nodes": len(connected),
            "node_ids": connected,
            "config": settings.as_dict(),
            "per_round": rounds,
            "final_evaluate_metrics": rounds[-1]["evaluate_metrics"] if rounds else {},
            "bytes": sum(r["bytes"] for r in rounds),
            "seconds": round(time.time() - started, 3),
        }
        write_global_model(output, weights, lineage)
        append_event(events, {"event": "run-end", "time": time.time(), "output": str(output), **base})
    except Exception as error:
        where = traceback.extract_tb(error.__traceback__)[-1]  # the error's own line, for the operator's first look
        append_event(
            events,
            {
                "event": "run-failed",
                "time": time.time(),
                "error": str(error) or type(error).__name__,
                "where": f"{where.filename}:{where.lineno} ({where.name})",
                **base,
            },
        )
        raise


class CountingGrid(Grid):
    """The hub's Grid, counting the payload bytes of every message sent and every reply (observe.payload_bytes):
    the legacy workflows talk to the nodes through `send_and_receive` only."""

    def __init__(self, inner: Grid) -> None:
        self.inner = inner
        self.bytes_down = 0
        self.bytes_up = 0

    def reset(self) -> None:
        self.bytes_down = self.bytes_up = 0

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        sent = list(messages)
        self.bytes_down += sum(payload_bytes(message) for message in sent)
        replies = list(self.inner.send_and_receive(sent, timeout=timeout))
        self.bytes_up += sum(payload_bytes(reply) for reply in replies)
        return replies

    def set_run(self, run: Run) -> None:
        self.inner.set_run(run)

    @property
    def run(self) -> Run:
        return self.inner.run

    def create_message(self, *args: Any, **kwargs: Any) -> Message:
        return self.inner.create_message(*args, **kwargs)

    def get_node_ids(self) -> Iterable[int]:
        return self.inner.get_node_ids()

    def get_nodes(self) -> Iterable[NodeInfo]:
        return self.inner.get_nodes()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        return self.inner.push_messages(messages)

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return self.inner.pull_messages(message_ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _RoundClock:
    """Times each round of the legacy workflow (SecAgg+ fit, then evaluation) and reports it when it ends."""

    def __init__(self, fit: Callable[[Grid, Context], None]) -> None:
        self.fit_workflow = fit
        self.started = 0.0
        self.on_round: Callable[[int, float], None] = lambda round_, seconds: None

    def fit(self, grid: Grid, context: Context) -> None:
        self.started = time.monotonic()
        self.fit_workflow(grid, context)

    def evaluate(self, grid: Grid, context: Context) -> None:
        default_evaluate_workflow(grid, context)
        round_ = int(context.state.config_records[MAIN_CONFIGS_RECORD][Key.CURRENT_ROUND])  # type: ignore[arg-type]
        self.on_round(round_, time.monotonic() - self.started)


def _by_round(metrics: dict[str, list[tuple[int, Any]]]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for key, values in metrics.items():
        for round_, value in values:
            found.setdefault(int(round_), {})[key] = value
    return found


def _final_weights(legacy: LegacyContext) -> list[np.ndarray]:
    """The global parameters the workflow left in the context's state."""
    record = legacy.state.array_records.get(MAIN_PARAMS_RECORD)
    if record is None:
        raise RuntimeError("the SecAgg+ workflow ended without global parameters")
    arrays = record.to_numpy_ndarrays()
    return [np.asarray(arrays[0], dtype=np.float64), np.asarray(arrays[1], dtype=np.float64)]
