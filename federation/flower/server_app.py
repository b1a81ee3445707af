"""The hub's ServerApp: runs the strategy over the connected agencies and writes the global model and its lineage.

Started by the SuperLink (in a subprocess) for every `grace federation train`. It waits for `min-nodes`
agencies (failing clearly after `wait-for-nodes` seconds), runs `num-server-rounds` rounds of the chosen
strategy from zero weights, records every round (`observe.ObservedStrategy`), and writes the global model
(`model.npz`) and its lineage (`lineage.json`) to `output-dir`. What it receives from the agencies:
weights, example counts and metrics — never data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from federation.credentials import federation_home
from federation.flower.observe import ObservedStrategy, append_event
from federation.flower.strategies import build_strategy
from federation.learning import N_FEATURES, initial_weights
from federation.model_store import write_global_model
from federation.privacy import epsilon_spent
from federation.run_config import RunSettings

app = ServerApp()


class NodesMissing(RuntimeError):
    """Fewer agencies than `min-nodes` connected within `wait-for-nodes` seconds."""


def default_events_file() -> Path:
    return federation_home() / "rounds.jsonl"


def default_output_dir(run_id: int) -> Path:
    return federation_home() / "models" / f"run-{run_id}"


@dataclass(frozen=True)
class RunStart:
    """What a hub run knows from its start: settings, run id, where events and the model go, the start
    time and the fields every event of the run carries."""

    settings: RunSettings
    run_id: int
    events: Path
    output: Path
    started: float
    base: dict[str, Any]


def begin_run(context: Context, strategy: str | None = None) -> RunStart:
    """Read the run's settings and record its `run-start` event (shared by the Message-API and SecAgg+ apps)."""
    settings = RunSettings.from_config(dict(context.run_config))
    run_id = int(context.run_id)
    events = Path(settings.observability_file) if settings.observability_file else default_events_file()
    output = Path(settings.output_dir) if settings.output_dir else default_output_dir(run_id)
    started = time.time()
    base: dict[str, Any] = {"run_id": run_id, "strategy": strategy or settings.strategy, "rounds": settings.rounds}
    append_event(events, {"event": "run-start", "time": started, "config": settings.as_dict(), **base})
    return RunStart(settings, run_id, events, output, started, base)


def wait_for_nodes(grid: Grid, settings: RunSettings) -> list[int]:
    """The connected node ids once `min-nodes` are connected; `NodesMissing` after `wait-for-nodes` seconds."""
    deadline = time.monotonic() + settings.wait_for_nodes
    while True:
        nodes = sorted(grid.get_node_ids())
        if len(nodes) >= settings.min_nodes:
            return nodes
        if time.monotonic() >= deadline:
            raise NodesMissing(
                f"{len(nodes)} node(s) connected after {settings.wait_for_nodes:.0f} s, "
                f"{settings.min_nodes} needed (are the agencies' nodes started and registered?)"
            )
        time.sleep(0.5)


def train_config(settings: RunSettings) -> ConfigRecord:
    """What every node gets with the global weights for local training (FedProx adds `proximal-mu` itself)."""
    return ConfigRecord(
        {"local-steps": settings.local_steps, "learning-rate": settings.learning_rate, "l2": settings.l2}
    )


@app.main()
def main(grid: Grid, context: Context) -> None:
    run = begin_run(context)
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
        strategy = ObservedStrategy(build_strategy(settings), events, run_id)
        result = strategy.start(
            grid=grid,
            initial_arrays=ArrayRecord(initial_weights()),
            num_rounds=settings.rounds,
            timeout=settings.round_timeout,
            train_config=train_config(settings),
            evaluate_config=ConfigRecord({"split": "test"}),
        )
        if not strategy.rounds or not any(r.get("aggregated") for r in strategy.rounds):
            raise RuntimeError("no round produced an aggregated model (every node failed or none replied)")
        weights = result.arrays.to_numpy_ndarrays()
        nodes = sorted({node["node_id"] for r in strategy.rounds for node in r["nodes"]})
        agencies = sorted({node["agency"] for r in strategy.rounds for node in r["nodes"] if "agency" in node})
        last = strategy.rounds[-1]
        lineage = {
            "kind": "federated-triage-logistic-regression",
            "features": N_FEATURES,
            **base,
            "rounds_completed": len(strategy.rounds),
            "nodes": len(nodes),
            "node_ids": nodes,
            "agencies": agencies,
            "connected_at_start": len(connected),
            "config": settings.as_dict(),
            "differential_privacy": (
                {
                    "mode": "client-side fixed clipping, Gaussian noise at the hub",
                    "unit": "node (an agency's whole update in a round)",
                    "target_epsilon": settings.dp_target_epsilon or None,
                    "noise_multiplier": settings.dp_noise_multiplier,
                    "clipping_norm": settings.dp_clipping_norm,
                    "delta": settings.dp_delta,
                    "releases": len(strategy.rounds),
                    "epsilon": epsilon_spent(settings.dp_noise_multiplier, len(strategy.rounds), settings.dp_delta),
                    "accounting": "Rényi DP (dp-accounting) of the Gaussian mechanism, node-level, no sampling amplification",
                }
                if settings.dp
                else None
            ),
            "per_round": strategy.rounds,
            "final_evaluate_metrics": last.get("evaluate_metrics", {}),
            "bytes": sum(r["bytes"] for r in strategy.rounds),
            "seconds": round(time.time() - started, 3),
            "started": started,
            "finished": time.time(),
        }
        write_global_model(output, [weights[0], weights[1]], lineage)
        append_event(
            events,
            {"event": "run-end", "time": time.time(), "output": str(output), "seconds": lineage["seconds"], **base},
        )
    except Exception as error:
        append_event(events, {"event": "run-failed", "time": time.time(), "error": str(error), **base})
        raise
