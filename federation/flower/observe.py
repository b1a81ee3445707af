"""Per-round observability at the hub: rounds, participating nodes, bytes, seconds and per-node metrics.

`ObservedStrategy` wraps any Message-API strategy (FedAvg, FedProx, trimmed mean, Krum, the DP wrapper)
and, around each call Flower's `Strategy.start` makes, records what crossed the wire: the messages sent
to the nodes and their replies (payload bytes of the records, never the records themselves), who
replied, the metrics each node reported about its own data (counts, log-loss, AUC — never data), and
how long the round took. At the end of each round (after evaluation) it appends one JSON line to the
observability file, which `grace federation status` and the dashboard's Operations page read.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Strategy

NODE_RECORD = "node"  # the ConfigRecord a ClientApp adds to its replies: its agency code


def payload_bytes(message: Message) -> int:
    """The bytes of a message's records (arrays, metrics, configs), as Flower counts them."""
    if message.has_error():
        return 0
    total = 0
    for record in message.content.values():
        if isinstance(record, ConfigRecord):
            total += config_bytes(record)
            continue
        count = getattr(record, "count_bytes", None)
        if count is not None:
            total += int(count())
    return total


def config_bytes(record: ConfigRecord) -> int:
    """`ConfigRecord.count_bytes` as Flower counts (8 per number, 1 per bool, the length of a str or bytes,
    plus the key), except that an empty list counts 0 (Flower 1.42's own raises IndexError on one, and
    SecAgg+'s stages send empty lists)."""

    def size(value: Any) -> int:
        if isinstance(value, bool):
            return 1
        if isinstance(value, str | bytes):
            return len(value)
        return 8

    total = 0
    for key, value in record.items():
        values = value if isinstance(value, list) else [value]
        total += sum(size(v) for v in values) + len(key)
    return total


def _clean(value: Any) -> Any:
    """JSON-safe scalars: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _metrics(record: MetricRecord | None) -> dict[str, Any]:
    return {} if record is None else {key: _clean(value) for key, value in record.items()}


def append_event(path: Path, event: dict[str, Any]) -> None:
    """Append one JSON line (the file and its folder are created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(event, sort_keys=True) + "\n")


class ObservedStrategy(Strategy):
    """A strategy that records each round and otherwise does exactly what the wrapped strategy does."""

    def __init__(self, inner: Strategy, events: Path, run_id: int) -> None:
        self.inner = inner
        self.events = events
        self.run_id = run_id
        self.rounds: list[dict[str, Any]] = []
        self._round: dict[str, Any] = {}
        self._started = 0.0

    # -- the rounds -----------------------------------------------------------------------------------------
    def _begin(self, server_round: int) -> dict[str, Any]:
        if self._round.get("round") != server_round:
            self._started = time.monotonic()
            self._round = {
                "event": "round",
                "run_id": self.run_id,
                "round": server_round,
                "bytes_down": 0,
                "bytes_up": 0,
                "nodes": {},
                "failures": [],
            }
        return self._round

    def _sent(self, server_round: int, messages: Iterable[Message], phase: str) -> list[Message]:
        sent = list(messages)
        record = self._begin(server_round)
        record["bytes_down"] += sum(payload_bytes(message) for message in sent)
        record[f"{phase}_sampled"] = len(sent)
        record[f"{phase}_started"] = time.monotonic()
        return sent

    def _received(self, server_round: int, replies: Iterable[Message], phase: str) -> list[Message]:
        received = list(replies)
        record = self._begin(server_round)
        started = record.pop(f"{phase}_started", time.monotonic())
        record[f"{phase}_seconds"] = round(time.monotonic() - started, 3)
        for reply in received:
            node_id = reply.metadata.src_node_id
            if reply.has_error():
                record["failures"].append({"node_id": node_id, "phase": phase, "reason": reply.error.reason})
                continue
            up = payload_bytes(reply)
            record["bytes_up"] += up
            node = record["nodes"].setdefault(str(node_id), {"node_id": node_id, "bytes_up": 0})
            node["bytes_up"] += up
            agency = next(
                (
                    str(rec["agency"])
                    for key, rec in reply.content.config_records.items()
                    if key == NODE_RECORD and "agency" in rec
                ),
                None,
            )
            if agency:
                node["agency"] = agency
            metrics = next(iter(reply.content.metric_records.values()), None)
            node[f"{phase}_metrics"] = _metrics(metrics)
        return received

    def _finish(self, server_round: int, evaluate_metrics: MetricRecord | None) -> None:
        record = self._begin(server_round)
        record["evaluate_metrics"] = _metrics(evaluate_metrics)
        record["seconds"] = round(time.monotonic() - self._started, 3)
        record["bytes"] = record["bytes_down"] + record["bytes_up"]
        record["nodes"] = sorted(record["nodes"].values(), key=lambda node: node["node_id"])
        record["participants"] = len(record["nodes"])
        record["time"] = time.time()
        self.rounds.append(record)
        append_event(self.events, record)
        self._round = {}

    # -- the Strategy interface, delegated ------------------------------------------------------------------
    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        return self._sent(server_round, self.inner.configure_train(server_round, arrays, config, grid), "train")

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        received = self._received(server_round, replies, "train")
        arrays, metrics = self.inner.aggregate_train(server_round, received)
        self._begin(server_round)["train_metrics"] = _metrics(metrics)
        self._begin(server_round)["aggregated"] = arrays is not None
        return arrays, metrics

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        return self._sent(server_round, self.inner.configure_evaluate(server_round, arrays, config, grid), "evaluate")

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        received = self._received(server_round, replies, "evaluate")
        metrics = self.inner.aggregate_evaluate(server_round, received)
        self._finish(server_round, metrics)
        return metrics

    def summary(self) -> None:
        self.inner.summary()
