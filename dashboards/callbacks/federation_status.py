"""The Operations page's federation section: the hub's latest training run, round by round.

Read from the hub's observability file (`$GRACE_HOME/federation/rounds.jsonl`, written by the ServerApp
each round, `federation/flower/observe.py`): rounds, participating agencies, bytes and seconds per round and
the global model's evaluation — sizes, times and metrics, never data. A run mixes agencies of several
countries, so only users whose scope is EU-wide see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from federation import runtime
from grace.scope import Scope


@dataclass(frozen=True)
class FederationView:
    summary: str  # one line on the latest run, or why there is nothing to show
    rows: list[dict]


def federation_view(scope: Scope) -> FederationView:
    """The latest federated run for an EU-wide user (see the module docstring)."""
    if not scope.eu_wide:
        return FederationView("Federated training mixes agencies of several countries: not shown in your scope.", [])
    run = runtime.last_run(runtime.read_events(runtime.FederationPaths.default().events))
    if run is None:
        return FederationView("No federated training run on this hub yet (`grace federation train`).", [])
    start, end = run["start"], run["end"]
    state = "running" if end is None else ("done" if end["event"] == "run-end" else f"failed: {end.get('error')}")
    summary = f"Run {run['run_id']}: {start.get('strategy', '?')}, {len(run['rounds'])} of {start.get('rounds', '?')} rounds, {state}."
    rows = []
    for record in run["rounds"]:
        metrics = record.get("evaluate_metrics") or {}
        nodes = record.get("nodes") or []
        size = record.get("bytes")
        rows.append(
            {
                "round": record.get("round"),
                "nodes": record.get("participants", len(nodes)),
                "agencies": ", ".join(sorted(str(node.get("agency", node.get("node_id"))) for node in nodes)),
                "kib": round(size / 1024, 1) if isinstance(size, int | float) else "",
                "seconds": round(record["seconds"], 1) if isinstance(record.get("seconds"), int | float) else "",
                "auc": _rounded(metrics.get("auc")),
                "macro_f1": _rounded(metrics.get("macro-f1")),
            }
        )
    return FederationView(summary, rows)


def _rounded(value) -> float | str:
    return round(float(value), 3) if isinstance(value, int | float) else ""
