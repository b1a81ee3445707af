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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from flwr.app import Context
from flwr.client import ClientApp, NumPyClient
from flwr.client.mod import secaggplus_mod
from flwr.common import Metrics, ndarrays_to_parameters
from flwr.server import LegacyContext, ServerApp, ServerConfig
from flwr.server.strategy import FedAvg
from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD, Key
from flwr.server.workflow.default_workflows import default_evaluate_workflow
from flwr.serverapp import Grid

from federation.flower.client_app import node_data
from federation.flower.observe import append_event
from federation.flower.server_app import begin_run, wait_for_nodes
from federation.learning import N_FEATURES, TrainingConfig, evaluate, initial_weights, train_locally
from federation.model_store import write_global_model

MAX_WEIGHT = 1e5  # examples per agency counted at most (SecAgg+ caps each node's weight)


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
        return updated, len(self.train_part), {}

    def evaluate(self, parameters, config):
        weights = [np.asarray(parameters[0], dtype=np.float64), np.asarray(parameters[1], dtype=np.float64)]
        result = evaluate(weights, self.test_part)
        metrics = {"auc": result["auc"], "macro-f1": result["macro_f1"], "agency": self.agency}
        return float(result["log_loss"]), len(self.test_part), metrics


def client_fn(context: Context):
    return AgencyClient(context).to_client()


client = ClientApp(client_fn=client_fn, mods=[secaggplus_mod])


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
        strategy = FedAvg(
            fraction_fit=settings.fraction_train,
            fraction_evaluate=settings.fraction_evaluate,
            min_fit_clients=settings.min_nodes,
            min_evaluate_clients=settings.min_nodes,
            min_available_clients=settings.min_nodes,
            initial_parameters=ndarrays_to_parameters(initial_weights()),
            on_fit_config_fn=lambda _round: dict(train_config),
            evaluate_metrics_aggregation_fn=_weighted,
        )
        legacy = LegacyContext(context, config=ServerConfig(num_rounds=settings.rounds), strategy=strategy)
        clock = _RoundClock(
            SecAggPlusWorkflow(
                num_shares=len(connected), reconstruction_threshold=max(2, len(connected) - 1), max_weight=MAX_WEIGHT
            )
        )
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
                    "bytes": None,
                    "evaluate_metrics": metrics,
                    "time": time.time(),
                }
            )
            append_event(events, rounds[-1])

        clock.on_round = round_done
        DefaultWorkflow(fit_workflow=clock.fit, evaluate_workflow=clock.evaluate)(grid, legacy)
        weights = _final_weights(legacy)
        lineage = {
            "kind": "federated-triage-logistic-regression",
            "features": N_FEATURES,
            **base,
            "secure_aggregation": "SecAgg+ (Flower legacy workflow)",
            "rounds_completed": len(rounds),
            "nodes": len(connected),
            "node_ids": connected,
            "config": settings.as_dict(),
            "per_round": rounds,
            "final_evaluate_metrics": rounds[-1]["evaluate_metrics"] if rounds else {},
            "seconds": round(time.time() - started, 3),
        }
        write_global_model(output, weights, lineage)
        append_event(events, {"event": "run-end", "time": time.time(), "output": str(output), **base})
    except Exception as error:
        append_event(events, {"event": "run-failed", "time": time.time(), "error": str(error), **base})
        raise


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
