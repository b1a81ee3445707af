"""An agency's ClientApp: trains and evaluates the global model on the agency's own warehouse, and nothing else.

The SuperNode that runs it is started with `--node-config "warehouse=/path agency=CODE"`: the warehouse
is the only data it reads (read-only, `federation.learning.node_dataset`); the agency code only names the
node in the hub's observability. Time-ordered split: the first 75 % of the labelled referrals train, the
last 25 % evaluate.

Replies carry the updated weights, `num-examples` and metrics about the agency's own data (log-loss,
AUC, macro-F1, counts) — never a row. With client-side DP on (the hub sends a clipping norm), Flower's
`fixedclipping_mod` clips the update before it leaves.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.clientapp.mod import fixedclipping_mod
from flwr.clientapp.typing import ClientAppCallable
from flwr.supercore.differential_privacy import KEY_CLIPPING_NORM

from federation.flower.observe import NODE_RECORD
from federation.flower.strategies import EXAMPLES_KEY, NODE_WEIGHT_KEY
from federation.learning import N_FEATURES, NodeData, TrainingConfig, evaluate, node_dataset, train_locally

app = ClientApp()


class NodeConfigError(ValueError):
    """The SuperNode was started without a usable `warehouse` (or `agency`) in its node configuration."""


def node_data(context: Context) -> tuple[str, NodeData, NodeData]:
    """(agency, train part, test part) of this node's own warehouse."""
    warehouse = str(context.node_config.get("warehouse", ""))
    agency = str(context.node_config.get("agency", ""))
    if not warehouse or not Path(warehouse).exists():
        raise NodeConfigError(f"node configuration 'warehouse' is missing or not a file: {warehouse!r}")
    train, test = node_dataset(Path(warehouse)).split()
    return agency, train, test


def _weights(message: Message) -> list[np.ndarray]:
    arrays = next(iter(message.content.array_records.values())).to_numpy_ndarrays()
    if len(arrays) != 2 or arrays[0].shape != (N_FEATURES,) or arrays[1].shape != (1,):
        raise ValueError(f"received weights of shapes {[a.shape for a in arrays]}, not this model's")
    return [arrays[0].astype(np.float64), arrays[1].astype(np.float64)]


def _config(message: Message) -> ConfigRecord:
    records = list(message.content.config_records.values())
    return records[0] if records else ConfigRecord()


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else float("nan")


def optional_clipping_mod(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Flower's `fixedclipping_mod` when the hub asks for clipping (client-side DP); otherwise nothing."""
    configs = list(msg.content.config_records.values())
    if configs and KEY_CLIPPING_NORM in configs[0]:
        return fixedclipping_mod(msg, ctxt, call_next)
    return call_next(msg, ctxt)


@app.train(mods=[optional_clipping_mod])
def train(msg: Message, context: Context) -> Message:
    agency, train_part, _ = node_data(context)
    config = _config(msg)
    training = TrainingConfig(
        steps=int(config.get("local-steps", TrainingConfig.steps)),  # type: ignore[arg-type]
        learning_rate=float(config.get("learning-rate", TrainingConfig.learning_rate)),  # type: ignore[arg-type]
        l2=float(config.get("l2", TrainingConfig.l2)),  # type: ignore[arg-type]
        proximal_mu=float(config.get("proximal-mu", 0.0)),  # type: ignore[arg-type]
    )
    updated = train_locally(_weights(msg), train_part, training)
    fit = evaluate(updated, train_part)
    metrics = MetricRecord(
        {
            EXAMPLES_KEY: len(train_part),
            NODE_WEIGHT_KEY: 1.0,
            "train-log-loss": _finite(fit["log_loss"]),
            "train-auc": _finite(fit["auc"]),
        }
    )
    content = RecordDict(
        {"arrays": ArrayRecord(updated), "metrics": metrics, NODE_RECORD: ConfigRecord({"agency": agency})}
    )
    return Message(content=content, reply_to=msg)


@app.evaluate()
def evaluate_global(msg: Message, context: Context) -> Message:
    agency, _, test_part = node_data(context)
    result = evaluate(_weights(msg), test_part)
    metrics = MetricRecord(
        {
            EXAMPLES_KEY: len(test_part),
            NODE_WEIGHT_KEY: 1.0,
            "auc": _finite(result["auc"]),
            "macro-f1": _finite(result["macro_f1"]),
            "log-loss": _finite(result["log_loss"]),
        }
    )
    return Message(
        content=RecordDict({"metrics": metrics, NODE_RECORD: ConfigRecord({"agency": agency})}), reply_to=msg
    )
