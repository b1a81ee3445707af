"""Federation benchmark: one run, everything side by side, against the issue's targets.

Six simulated agencies that differ (`federation.agencies.DEFAULT_AGENCIES`: sizes over 100× apart,
their own platform mixes and label rates, one with a drifted outcome model, two label-scarce ones that learn
the outcome of only one referral in ten — a few dozen labels), each with its own warehouse built through the
real ETL. Each agency trains on every labelled referral of its own warehouse and is tested on its
**evaluation draw**: an independent sample of the same agency (same world and outcome model, other
referrals, every outcome recorded; `federation.agencies.build_evaluation_warehouse`), scaled up for the small
agencies to at least `EVAL_REFERRALS` referrals so that their AUC and F1 are not noise. Then, in one process
(`federation.rounds`, the reference computation the Flower deployment is held to):

- **quality**: pooled (centralised) training on every agency's training data; FedAvg, FedProx, trimmed
  mean and Krum; each agency alone (local-only). ROC AUC and prevalence-matched macro-F1 on the pooled test
  data (every agency's evaluation draw at its natural share) and on each agency's own evaluation draw, with
  a paired bootstrap 95 % interval of the federated − local-only difference. Targets: federated within 2
  points of pooled; at least 5 points above local-only for the two agencies with the fewest labels;
- **privacy**: record-level DP-GD at ε = 1, 3 and 8 (δ = 1e-5, Rényi accounting) — the cost in AUC and F1;
- **poisoning**: one agency of six sends a scaled (×−10) or a label-flipped update; FedAvg, trimmed mean and
  Krum, against the clean run. Target: robust aggregation within 2 points of the clean FedAvg run;
- **seed spread** (`--spread-seeds`, default 43, 44, 45): the whole simulation re-drawn with other seeds,
  the two smallest agencies' local-only and FedAvg scores again — the luck of a few dozen labels;
- **DP counts**: every agency releases country × platform counts for each month of a quarter at ε = 1 at
  scale 1.0 (EU public magnitudes); the share of published EU cells ≥ 1,000 within ±5 % of the truth
  (target 95 %).

With `--secagg-dp` (or alone, `--secagg-dp-only`): the cost of privacy with real processes — a hub (TLS,
node authentication) and 4 agencies' SuperNodes, 5 rounds of `grace federation train --secagg` without DP
(the reference) and with node-level DP inside SecAgg+ at ε = 1, 3 and 8 (`--dp-target-epsilon`): ε spent, δ,
noise multiplier, AUC and macro-F1 on those agencies' pooled test data, seconds per run, bytes per round.

Prints JSON; with --write updates the "Federation" section of docs/BENCHMARKS.md (`--secagg-dp-only --write`:
only its "Cost of privacy with SecAgg+" table).

    .venv/bin/python benchmarks/federation.py --write
    .venv/bin/python benchmarks/federation.py --secagg-dp-only --write
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import machine, update_section  # noqa: E402

ROUNDS, STEPS = 5, 60
EVAL_REFERRALS = 20_000  # an agency's evaluation draw is scaled up until it has about this many referrals
MAX_EVAL_FACTOR = 50
BOOTSTRAP = 1000
L2_GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)  # local-only's L2 penalties tried for the smallest agencies


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


EPSILONS = (1.0, 3.0, 8.0)
POISONED = "AGY-FRA"  # the second-largest agency: its update weighs most after Germany's


def _pooled(parts):
    from federation.learning import NodeData

    parts = [part for part in parts if len(part)]
    return NodeData(np.vstack([p.X for p in parts]), np.concatenate([p.y for p in parts]))


def _scores(metrics: dict) -> dict:
    return {"auc": round(100 * metrics["auc"], 1), "macro_f1": round(100 * metrics["macro_f1"], 1)}


class _Scorer:
    """AUC and prevalence-matched macro-F1 of one model's scores on one test set, for any bootstrap weights
    (how many times each test referral is drawn): the resample's metrics without building it. Ties share
    rank (AUC) and the flagged are the highest scores in `federation.learning.evaluate`'s order (F1)."""

    def __init__(self, y: np.ndarray, p: np.ndarray):
        self.y = y.astype(float)
        self.order = np.argsort(-p, kind="stable")
        self.levels = np.unique(p, return_inverse=True)[1]  # rank of each score among the distinct scores

    def __call__(self, w: np.ndarray) -> tuple[float, float]:
        positive, negative = np.bincount(self.levels, w * self.y), np.bincount(self.levels, w * (1 - self.y))
        k, n = float(positive.sum()), float(w.sum())
        below = np.cumsum(negative) - negative
        auc = float((positive * (below + 0.5 * negative)).sum() / (k * (n - k)))
        drawn = w[self.order]
        taken = np.clip(k - (np.cumsum(drawn) - drawn), 0, drawn)  # the top k draws are flagged
        hits = float((taken * self.y[self.order]).sum())
        true_negatives, errors = n - 2 * k + hits, 2 * (k - hits)
        return auc, (hits / k + 2 * true_negatives / (2 * true_negatives + errors)) / 2


def paired_bootstrap(y: np.ndarray, local: np.ndarray, federated: np.ndarray, seed: int = 0) -> dict:
    """95 % percentile intervals of federated − local-only AUC and macro-F1 (points), resampling the test
    referrals with replacement (`BOOTSTRAP` times, the same resample for both models)."""
    rng = np.random.default_rng(seed)
    alone, together = _Scorer(y, local), _Scorer(y, federated)
    gains = []
    for _ in range(BOOTSTRAP):
        w = np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)).astype(float)
        if not 0 < float(w @ y) < w.sum():
            continue
        a, b = alone(w), together(w)
        gains.append((b[0] - a[0], b[1] - a[1]))
    if not gains:
        return {"auc": None, "macro_f1": None}
    low, high = np.percentile(100 * np.array(gains), [2.5, 97.5], axis=0)
    return {
        "auc": [round(float(low[0]), 1), round(float(high[0]), 1)],
        "macro_f1": [round(float(low[1]), 1), round(float(high[1]), 1)],
    }


def evaluation_factor(warehouse: Path) -> int:
    """How many times the agency's own scale its evaluation draw needs to reach `EVAL_REFERRALS` referrals."""
    from warehouse import connect

    con = connect(warehouse, read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM fact_referral").fetchone()
    finally:
        con.close()
    referrals = int(row[0]) if row else 0
    return max(1, min(MAX_EVAL_FACTOR, -(-EVAL_REFERRALS // max(referrals, 1))))


def _natural_share(test: dict, factors: dict[str, int], seed: int):
    """Every agency's evaluation draw, those scaled up by k thinned to one row in k (seeded), so each agency
    weighs in the pooled test data as it does in the EU."""
    rng = np.random.default_rng(seed)
    parts = []
    for code, data in test.items():
        keep = np.sort(rng.permutation(len(data))[: round(len(data) / factors[code])])
        parts.append(type(data)(data.X[keep], data.y[keep]))
    return _pooled(parts)


def quality(warehouses: dict[str, Path], evaluations: dict[str, Path], factors: dict[str, int], seed: int) -> dict:
    from federation.learning import TrainingConfig, evaluate, initial_weights, node_dataset, predict, train_locally
    from federation.privacy import PrivacyConfig, noise_for_epsilon
    from federation.rounds import FederationConfig, run_rounds

    train = {code: node_dataset(path) for code, path in warehouses.items()}
    test = {code: node_dataset(evaluations[code]) for code in warehouses}
    pooled_test = _natural_share(test, factors, seed)
    training = TrainingConfig(steps=STEPS)

    agencies = [
        {
            "agency": code,
            "labelled": len(train[code]),
            "labelled_positives": int(train[code].y.sum()),
            "positive_rate": round(float(train[code].y.mean()), 3) if len(train[code]) else None,
            "evaluation_factor": factors[code],
            "test": len(test[code]),
            "test_positives": int(test[code].y.sum()),
        }
        for code in warehouses
    ]
    _progress("pooled and federated training")
    central = train_locally(initial_weights(), _pooled(train.values()), TrainingConfig(steps=ROUNDS * STEPS))
    models = {"pooled (centralised)": (central, None, 0.0)}
    for strategy in ("fedavg", "fedprox", "trimmed-mean", "krum"):
        started = time.perf_counter()
        result = run_rounds(train, FederationConfig(rounds=ROUNDS, strategy=strategy, training=training))
        models[strategy] = (result.weights, None, time.perf_counter() - started)
    pooled_rows = [
        {"model": name, **_scores(evaluate(weights, pooled_test)), "seconds": round(seconds, 2)}
        for name, (weights, _, seconds) in models.items()
    ]

    fedavg = models["fedavg"][0]
    smallest = sorted(warehouses, key=lambda code: len(train[code]))[:2]
    per_agency = []
    for code in warehouses:
        _progress(f"local-only {code}")
        local = train_locally(initial_weights(), train[code], TrainingConfig(steps=ROUNDS * STEPS))
        alone, together = evaluate(local, test[code]), evaluate(fedavg, test[code])
        X, y = test[code].X.astype(float), test[code].y.astype(int)
        row = {
            "agency": code,
            "local_only": _scores(alone),
            "federated": _scores(together),
            "gain_auc": round(100 * (together["auc"] - alone["auc"]), 1),
            "gain_macro_f1": round(100 * (together["macro_f1"] - alone["macro_f1"]), 1),
            "gain_interval_95": paired_bootstrap(y, predict(local, X), predict(fedavg, X), seed),
        }
        if code in smallest:  # is local-only merely under-regularised? its best L2, chosen on the test data
            tuned = {
                l2: evaluate(
                    train_locally(initial_weights(), train[code], TrainingConfig(ROUNDS * STEPS, l2=l2)), test[code]
                )
                for l2 in L2_GRID
            }
            best = max(tuned, key=lambda l2: tuned[l2]["auc"])
            row["local_only_best_l2"] = {"l2": best, **_scores(tuned[best])}
        per_agency.append(row)

    private = []
    _progress("differential privacy")
    for epsilon in EPSILONS:
        noise = noise_for_epsilon(epsilon, ROUNDS * STEPS)
        result = run_rounds(
            train, FederationConfig(rounds=ROUNDS, training=training, privacy=PrivacyConfig(1.0, noise), seed=1)
        )
        private.append(
            {
                "epsilon_target": epsilon,
                "epsilon_spent": round(float(result.epsilon or 0.0), 3),
                "delta": result.delta,
                "noise_multiplier": round(noise, 2),
                **_scores(evaluate(result.weights, pooled_test)),
            }
        )

    poisoning = []
    _progress("poisoning")
    clean = {row["model"]: row for row in pooled_rows}
    for strategy in ("fedavg", "trimmed-mean", "krum"):
        for attack in ("scaled", "label-flip"):
            result = run_rounds(
                train, FederationConfig(rounds=ROUNDS, strategy=strategy, training=training), {POISONED: attack}
            )
            scores = _scores(evaluate(result.weights, pooled_test))
            poisoning.append(
                {
                    "strategy": strategy,
                    "attack": attack,
                    **scores,
                    "drop_vs_clean_fedavg": round(clean["fedavg"]["auc"] - scores["auc"], 1),
                    "drop_vs_own_clean": round(clean[strategy]["auc"] - scores["auc"], 1),
                }
            )
    return {
        "agencies": agencies,
        "pooled_test": pooled_rows,
        "per_agency": per_agency,
        "smallest": smallest,
        "privacy": private,
        "poisoning": poisoning,
    }


def seed_spread(root: Path, scale: float, seeds: list[int]) -> list[dict]:
    """The smallest two agencies' local-only and FedAvg scores with the whole simulation re-drawn from other
    seeds (every agency's warehouse, which outcomes the small ones hear of, their evaluation draws): the
    spread that one seed's bootstrap interval cannot show, the luck of a few dozen training labels."""
    from federation.agencies import DEFAULT_AGENCIES, build_agency_warehouses, build_evaluation_warehouse
    from federation.learning import TrainingConfig, evaluate, initial_weights, node_dataset, train_locally
    from federation.rounds import FederationConfig, run_rounds

    specs = {spec.code: spec for spec in DEFAULT_AGENCIES}
    rows = []
    for seed in seeds:
        _progress(f"seed spread: seed {seed}")
        warehouses = build_agency_warehouses(root / f"seed-{seed}", scale, seed=seed)
        train = {code: node_dataset(path) for code, path in warehouses.items()}
        fedavg = run_rounds(train, FederationConfig(rounds=ROUNDS, training=TrainingConfig(steps=STEPS))).weights
        for code in sorted(warehouses, key=lambda code: len(train[code]))[:2]:
            factor = evaluation_factor(warehouses[code])
            test = node_dataset(build_evaluation_warehouse(specs[code], root / f"seed-{seed}", scale * factor, seed))
            local = train_locally(initial_weights(), train[code], TrainingConfig(steps=ROUNDS * STEPS))
            alone, together = _scores(evaluate(local, test)), _scores(evaluate(fedavg, test))
            rows.append(
                {
                    "seed": seed,
                    "agency": code,
                    "labelled": len(train[code]),
                    "labelled_positives": int(train[code].y.sum()),
                    "test": len(test),
                    "test_positives": int(test.y.sum()),
                    "local_only": alone,
                    "federated": together,
                    "gain_auc": round(together["auc"] - alone["auc"], 1),
                    "gain_macro_f1": round(together["macro_f1"] - alone["macro_f1"], 1),
                }
            )
    return rows


def dp_counts(root: Path, seed: int) -> dict:
    """Scale 1.0, one quarter: each agency releases each month at ε = 1; EU cells compared with the truth."""
    from federation.agencies import DEFAULT_AGENCIES, build_agency_warehouse
    from federation.release import BudgetLedger, true_counts
    from warehouse import connect

    _progress("DP counts at scale 1.0")
    first, last = date(2024, 1, 1), date(2024, 3, 31)
    months = ("2024-01", "2024-02", "2024-03")
    truths, noisy = [], []
    started = time.perf_counter()
    for spec in DEFAULT_AGENCIES:
        if spec.start > last:
            continue  # joined after the quarter: nothing to release
        counted = replace(spec, start=max(spec.start, first), outcome_drift=None)  # outcomes do not change counts
        path = build_agency_warehouse(counted, root / "scale-1", 1.0, seed, last)
        con = connect(path, read_only=True)
        platforms = [row[0] for row in con.execute("SELECT platform_name FROM dim_platform ORDER BY 1").fetchall()]
        con.close()
        ledger = BudgetLedger(root / "ledgers" / f"{spec.code}.sqlite", budget=12.0)
        for month in months:
            if spec.start > date.fromisoformat(f"{month}-01"):
                continue
            truth = true_counts(path, month, spec.countries, platforms).assign(month=month)
            release = ledger.release(spec.code, path, month, 1.0, spec.countries, platforms, k=10)
            truths.append(truth)
            noisy.append(release.cells.assign(month=month))
    built = time.perf_counter() - started
    import pandas as pd

    keys = ["month", "country_iso3", "platform_name"]
    merged = pd.concat(truths).merge(pd.concat(noisy), on=keys, suffixes=("_true", "_released"))
    large = merged[merged["referrals_true"] >= 1000]
    within = (large["referrals_released"].astype(float) - large["referrals_true"]).abs() <= 0.05 * large[
        "referrals_true"
    ]
    medium = merged[(merged["referrals_true"] >= 100) & (merged["referrals_true"] < 1000)]
    medium_within = (medium["referrals_released"].astype(float) - medium["referrals_true"]).abs() <= 0.05 * medium[
        "referrals_true"
    ]
    return {
        "months": list(months),
        "epsilon_per_release": 1.0,
        "cells": len(merged),
        "cells_suppressed": int(merged["suppressed"].sum()),
        "cells_at_least_1000": len(large),
        "share_within_5pct_at_least_1000": round(float(within.mean()), 4) if len(large) else None,
        "cells_100_to_999": len(medium),
        "share_within_5pct_100_to_999": round(float(medium_within.mean()), 4) if len(medium) else None,
        "referrals": int(merged["referrals_true"].sum()),
        "build_seconds": round(built, 1),
    }


def flower_speed(warehouses: dict[str, Path], home: Path, nodes: int = 4, rounds: int = 5) -> dict:
    """Real processes: a hub (TLS, node authentication) and `nodes` agencies' SuperNodes, `rounds` of FedAvg
    through `grace federation train`; the time of the training run and the global model's AUC on those
    agencies' pooled test data."""
    import os
    import subprocess

    from federation.learning import evaluate, node_dataset
    from federation.model_store import read_global_model
    from federation.runtime import free_port

    chosen = dict(sorted(warehouses.items())[:nodes])
    env = {**os.environ, "GRACE_HOME": str(home), "FLWR_DISABLE_UPDATE_CHECK": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    grace = [str(Path(sys.executable).parent / "grace"), "federation"]

    def run(*args: str, timeout: float = 600) -> None:
        done = subprocess.run([*grace, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"grace federation {' '.join(args)} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")

    out = home / "model"
    try:
        started = time.perf_counter()
        run("hub", "start", "--port", str(free_port()), "--detach")
        for code, path in chosen.items():
            run("node", "start", "--agency", code, "--warehouse", str(path), "--detach")
        ready = time.perf_counter() - started
        started = time.perf_counter()
        run("train", "--rounds", str(rounds), "--min-nodes", str(nodes), "--out", str(out), timeout=1800)
        trained = time.perf_counter() - started
    finally:
        subprocess.run([*grace, "stop"], env=env, capture_output=True, text=True, timeout=120)
    weights, lineage = read_global_model(out)
    test = _pooled([node_dataset(path).split()[1] for path in chosen.values()])
    return {
        "nodes": nodes,
        "agencies": sorted(chosen),
        "rounds": lineage["rounds_completed"],
        "start_seconds": round(ready, 1),
        "train_seconds": round(trained, 1),
        "ratio_to_target": round(trained / 180.0, 2),
        "seconds_per_round": [round(r["seconds"], 1) for r in lineage["per_round"]],
        "load_average": [round(v, 2) for v in os.getloadavg()],  # 1, 5, 15 min: other jobs on the machine
        "bytes_per_round": [r["bytes"] for r in lineage["per_round"]],
        **_scores(evaluate(weights, test)),
    }


SECAGG_DP_CLIP = 1.0  # node-level clipping norm: round-1 updates from zero weights measure ≈ 1.9, later ones ≈ 0.4
SECAGG_DP_BLOCK = "federation-secagg-dp"  # the markers around the "Cost of privacy with SecAgg+" table


def secagg_dp(warehouses: dict[str, Path], home: Path, nodes: int = 4, rounds: int = ROUNDS) -> dict:
    """Real processes: a hub (TLS, node authentication) and `nodes` agencies' SuperNodes started once, then
    `grace federation train --secagg` for `rounds` rounds without DP (the reference) and with node-level DP
    at ε = 1, 3 and 8 (`--dp-target-epsilon`, clipping norm `SECAGG_DP_CLIP`): ε spent, δ, noise multiplier,
    seconds, bytes per round, and AUC / macro-F1 of each global model on those agencies' pooled test data
    (each one's last 25 %, as for the speed run)."""
    import os
    import subprocess

    from federation.learning import evaluate, node_dataset
    from federation.model_store import read_global_model
    from federation.runtime import free_port

    chosen = dict(sorted(warehouses.items())[:nodes])
    env = {**os.environ, "GRACE_HOME": str(home), "FLWR_DISABLE_UPDATE_CHECK": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    grace = [str(Path(sys.executable).parent / "grace"), "federation"]

    def run(*args: str, timeout: float = 600) -> None:
        done = subprocess.run([*grace, *args], env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"grace federation {' '.join(args)} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")

    test = _pooled([node_dataset(path).split()[1] for path in chosen.values()])
    runs = []
    try:
        run("hub", "start", "--port", str(free_port()), "--detach")
        for code, path in chosen.items():
            run("node", "start", "--agency", code, "--warehouse", str(path), "--detach")
        for epsilon in (None, *EPSILONS):
            _progress(f"SecAgg+ {'without DP' if epsilon is None else f'with DP at ε = {epsilon:g}'}")
            out = home / "models" / ("secagg" if epsilon is None else f"secagg-dp-{epsilon:g}")
            private = (
                []
                if epsilon is None
                else ["--dp-target-epsilon", str(epsilon), "--dp-clipping-norm", str(SECAGG_DP_CLIP)]
            )
            started = time.perf_counter()
            run(
                "train",
                "--secagg",
                "--rounds",
                str(rounds),
                "--min-nodes",
                str(nodes),
                "--out",
                str(out),
                *private,
                timeout=3600,
            )
            seconds = time.perf_counter() - started
            weights, lineage = read_global_model(out)
            dp = lineage.get("differential_privacy") or {}
            runs.append(
                {
                    "epsilon_target": epsilon,
                    "epsilon_spent": None if epsilon is None else round(dp["epsilon"], 3),
                    "delta": dp.get("delta"),
                    "noise_multiplier": None if epsilon is None else round(dp["noise_multiplier"], 3),
                    "noise_std": None if epsilon is None else round(dp["noise_std"], 3),
                    "clipping_norm": dp.get("clipping_norm"),
                    "secagg_clipping_range": lineage["secagg"]["clipping_range"],
                    "rounds": lineage["rounds_completed"],
                    "seconds": round(seconds, 1),
                    "seconds_per_round": [round(r["seconds"], 1) for r in lineage["per_round"]],
                    "bytes_per_round": [r["bytes"] for r in lineage["per_round"]],
                    "load_average": [round(v, 2) for v in os.getloadavg()],
                    **_scores(evaluate(weights, test)),
                }
            )
    finally:
        subprocess.run([*grace, "stop"], env=env, capture_output=True, text=True, timeout=120)
    return {
        "nodes": nodes,
        "agencies": sorted(chosen),
        "test": len(test),
        "test_positives": int(test.y.sum()),
        "runs": runs,
    }


def secagg_dp_block(part: dict, day: str, machine_name: str, command: str) -> str:
    """The "Cost of privacy with SecAgg+" table and its command, machine and date."""
    reference = part["runs"][0]

    def cell(value, fmt: str = "") -> str:
        return "—" if value is None else format(value, fmt)

    rows = "\n".join(
        f"| {'none (SecAgg+ only)' if r['epsilon_target'] is None else cell(r['epsilon_target'], 'g')} "
        f"| {cell(r['epsilon_spent'])} | {cell(r['delta'], 'g')} | {cell(r['noise_multiplier'])} "
        f"| {cell(r['noise_std'])} | {r['auc']} | {r['macro_f1']} | {round(r['auc'] - reference['auc'], 1):+} "
        f"| {r['seconds']} | {r['bytes_per_round'][0]:,} |"
        for r in part["runs"]
    )
    return f"""**Cost of privacy with SecAgg+** (`{command}`,
{day}, {machine_name}): real processes (`grace federation train --secagg`, TLS and node authentication),
{part["nodes"]} SuperNodes ({", ".join(part["agencies"])}), {part["runs"][0]["rounds"]} rounds of FedAvg each; node-level DP
(`--dp-target-epsilon ε --dp-clipping-norm {SECAGG_DP_CLIP:g}`: each node clips its update to norm {SECAGG_DP_CLIP:g}
inside `secaggplus_mod`, the hub adds Gaussian noise of standard deviation z·C/n to the securely aggregated mean);
ε spent over the rounds by Rényi accounting at δ = 1e-5, one Gaussian mechanism per round. AUC and macro-F1 on
those agencies' pooled test data ({part["test"]:,} referrals, {part["test_positives"]:,} positive: each one's last 25 %).
Bytes per round: payload of every SecAgg+ stage and the evaluation, down and up.

| ε target | ε spent | δ | noise multiplier z | noise std on the mean | AUC | macro-F1 | AUC − SecAgg+ only | seconds | bytes per round |
|---|---|---|---|---|---|---|---|---|---|
{rows}
"""


def _existing_secagg_dp_block() -> str:
    from benchmarks.common import BENCHMARKS_MD

    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else ""
    start, end = f"<!-- validation:{SECAGG_DP_BLOCK}:start -->", f"<!-- validation:{SECAGG_DP_BLOCK}:end -->"
    if start in text and end in text:
        return text[text.index(start) : text.index(end) + len(end)]
    return f"{start}\n**Cost of privacy with SecAgg+**: not measured yet (`--secagg-dp`).\n{end}"


def targets(summary: dict) -> list[str]:
    """One line per target of the issue: the measured figure and met or missed (by how much)."""
    q = summary["quality"]
    pooled = {r["model"]: r for r in q["pooled_test"]}
    central = pooled["pooled (centralised)"]

    def verdict(ok: bool, short: float | None = None) -> str:
        return "met" if ok else f"missed by {short:.1f} points" if short is not None else "missed"

    lines = []
    gap = max(central["auc"] - pooled["fedavg"]["auc"], central["macro_f1"] - pooled["fedavg"]["macro_f1"])
    lines.append(
        f"FedAvg within 2 points of pooled training: {gap:.1f} points behind at most — {verdict(gap <= 2, gap - 2)}"
    )
    for r in q["per_agency"]:
        if r["agency"] in q["smallest"]:
            worst = min(r["gain_auc"], r["gain_macro_f1"])
            lines.append(
                f"{r['agency']} (label-scarce) at least 5 points above local-only: {r['gain_auc']:+} AUC, "
                f"{r['gain_macro_f1']:+} macro-F1 — {verdict(worst >= 5, 5 - worst)}"
            )
    spread = summary.get("seed_spread") or []
    if spread:
        runs = [r for r in q["per_agency"] if r["agency"] in q["smallest"]] + spread
        met = [r for r in runs if min(r["gain_auc"], r["gain_macro_f1"]) >= 5]
        worst = min(runs, key=lambda r: min(r["gain_auc"], r["gain_macro_f1"]))
        seeds = [summary.get("seed", 42), *sorted({r["seed"] for r in spread})]
        lines.append(
            f"the same, over seeds {', '.join(map(str, seeds))} (smallest two agencies each): met in {len(met)} of "
            f"{len(runs)}; worst {worst['agency']} (seed {worst.get('seed', seeds[0])}) {worst['gain_auc']:+} AUC, "
            f"{worst['gain_macro_f1']:+} macro-F1"
        )
    for r in q["poisoning"]:
        if r["strategy"] != "fedavg":
            drop = r["drop_vs_clean_fedavg"]
            lines.append(
                f"{r['strategy']} under a {r['attack']} node within 2 AUC points of the clean run: {drop} — "
                f"{verdict(drop <= 2, drop - 2)}"
            )
    speed = summary.get("flower")
    if speed:
        seconds = speed["train_seconds"]
        lines.append(
            f"{speed['nodes']} nodes × {speed['rounds']} rounds in ≤ 180 s (real processes): {seconds} s — "
            + ("met" if seconds <= 180 else f"missed by {seconds - 180:.1f} s")
        )
    cost = summary.get("secagg_dp")
    if cost:
        reference, private = cost["runs"][0], cost["runs"][1:]
        lines.append(
            "Cost of privacy, DP with SecAgg+, reported at ε = 1, 3 and 8 (real processes, node-level DP): AUC "
            + ", ".join(f"{r['auc']} at ε = {r['epsilon_spent']}" for r in private)
            + f" against {reference['auc']} with SecAgg+ alone — reported (the target asks for the figures, not a bound)"
        )
    share = summary["dp_counts"]["share_within_5pct_at_least_1000"]
    if share is not None:
        lines.append(f"DP counts, cells ≥ 1,000 within ±5 % at ε = 1: {share:.0%} — {verdict(share >= 0.95)}")
    return lines


def write(summary: dict, scale: float) -> None:
    q = summary["quality"]
    checked = "\n".join(f"- {line}" for line in targets(summary))
    notes = []
    for a in q["agencies"]:
        if a["agency"] in q["smallest"] and a["labelled_positives"] == 0:
            notes.append(
                f"{a['agency']}'s few training labels hold no positive outcome in this run: its local-only model "
                "can only learn what makes a referral negative, so its gain is what the federation gives an agency "
                "that has not yet heard of one positive outcome (the seed spread below shows other draws)."
            )
    robust_missed = [r for r in q["poisoning"] if r["strategy"] != "fedavg" and r["drop_vs_clean_fedavg"] > 2]
    if robust_missed:
        notes.append(
            "Robust aggregation that misses the poisoning target here: "
            + ", ".join(f"{r['strategy']} ({r['attack']}, −{r['drop_vs_clean_fedavg']})" for r in robust_missed)
            + ". Robust rules ignore example counts (a poisoned node could lie about them): with one node scaled, "
            "the trimmed mean drops it at one end of every coordinate and one honest value at the other, then "
            "averages the four left with equal weights, where the two label-scarce agencies' noisy updates from a "
            "few dozen labels often remain (FedAvg weighs them by their few examples). That is our reading; it was "
            "not measured separately."
        )
    reading = ("\n\n" + "\n\n".join(notes)) if notes else ""
    central = q["pooled_test"][0]
    pooled = "\n".join(
        f"| {r['model']} | {r['auc']} | {r['macro_f1']} | {round(r['auc'] - central['auc'], 1)} "
        f"| {round(r['macro_f1'] - central['macro_f1'], 1)} |"
        for r in q["pooled_test"]
    )
    agencies = {row["agency"]: row for row in q["agencies"]}

    def interval(r: dict, metric: str) -> str:
        bounds = r["gain_interval_95"][metric]
        return "n/a" if bounds is None else f"[{bounds[0]:+}, {bounds[1]:+}]"

    def agency_row(r: dict) -> str:
        a = agencies[r["agency"]]
        smallest = " (smallest)" if r["agency"] in q["smallest"] else ""
        return (
            f"| {r['agency']}{smallest} | {a['labelled']:,} ({a['labelled_positives']:,}) "
            f"| {a['test']:,} ({a['test_positives']:,}), ×{a['evaluation_factor']} "
            f"| {r['local_only']['auc']} / {r['local_only']['macro_f1']} "
            f"| {r['federated']['auc']} / {r['federated']['macro_f1']} "
            f"| {r['gain_auc']:+} {interval(r, 'auc')} | {r['gain_macro_f1']:+} {interval(r, 'macro_f1')} |"
        )

    per = "\n".join(agency_row(r) for r in q["per_agency"])
    small = [r for r in q["per_agency"] if r["agency"] in q["smallest"]]
    met = all(r["gain_auc"] >= 5 and r["gain_macro_f1"] >= 5 for r in small)
    verdict = ", ".join(
        f"{r['agency']} {r['gain_auc']:+} AUC / {r['gain_macro_f1']:+} macro-F1 points" for r in small
    ) + (" — target (≥ 5 points on both) met." if met else " — target (≥ 5 points on both) missed.")
    tuned = "; ".join(
        f"{r['agency']} {r['local_only_best_l2']['auc']} / {r['local_only_best_l2']['macro_f1']} "
        f"(L2 {r['local_only_best_l2']['l2']:g}, gain {round(r['federated']['auc'] - r['local_only_best_l2']['auc'], 1):+} / "
        f"{round(r['federated']['macro_f1'] - r['local_only_best_l2']['macro_f1'], 1):+})"
        for r in small
        if "local_only_best_l2" in r
    )
    private = "\n".join(
        f"| {r['epsilon_target']:g} | {r['epsilon_spent']} | {r['noise_multiplier']} | {r['auc']} | {r['macro_f1']} |"
        for r in q["privacy"]
    )
    poison = "\n".join(
        f"| {r['strategy']} | {r['attack']} | {r['auc']} | {r['drop_vs_clean_fedavg']} | {r['drop_vs_own_clean']} |"
        for r in q["poisoning"]
    )
    dp = summary["dp_counts"]
    spread_rows = summary.get("seed_spread") or []
    spread = (
        "**Seed spread of the two smallest agencies** (the whole simulation re-drawn with other seeds: every "
        "agency's warehouse, which outcomes the small ones hear of, their evaluation draws; FedAvg against "
        "local-only, AUC / macro-F1):\n\n"
        "| seed | agency | labelled (positives) | test (positives) | local-only | federated | gain |\n"
        "|---|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {r['seed']} | {r['agency']} | {r['labelled']} ({r['labelled_positives']}) "
            f"| {r['test']:,} ({r['test_positives']:,}) | {r['local_only']['auc']} / {r['local_only']['macro_f1']} "
            f"| {r['federated']['auc']} / {r['federated']['macro_f1']} | {r['gain_auc']:+} / {r['gain_macro_f1']:+} |"
            for r in spread_rows
        )
        + "\n\nThe gain rests on how many positive outcomes a few dozen labels happen to hold and on how well the "
        "one global model fits the agency: it is not personalised (fine-tuning it on the agency's labels, "
        "`grace federation adopt --fine-tune-steps`, is not measured here).\n\n"
        if spread_rows
        else ""
    )
    speed = summary.get("flower")
    flower = (
        f"**Speed with real processes** (`grace federation`: a hub with TLS and node authentication, "
        f"{speed['nodes']} SuperNodes ({', '.join(speed['agencies'])}), {speed['rounds']} rounds of FedAvg): "
        f"training took {speed['train_seconds']} s against the 3-minute target (ratio {speed['ratio_to_target']}); "
        f"hub and nodes started in {speed['start_seconds']} s; seconds per round {speed['seconds_per_round']}; "
        f"{speed['bytes_per_round'][0]:,} bytes per round; AUC {speed['auc']}, macro-F1 {speed['macro_f1']} on "
        "those agencies' pooled test data (each one's last 25 %)."
        + (
            f" Load average (1, 5, 15 min) when it ended: {', '.join(map(str, speed['load_average']))} on 2 cores "
            "(other jobs shared the machine)."
            if speed.get("load_average")
            else ""
        )
        + "\n"
        if speed
        else "**Speed with real processes**: not measured in this run (`--flower`).\n"
    )
    cost = summary.get("secagg_dp")
    secagg = (
        f"<!-- validation:{SECAGG_DP_BLOCK}:start -->\n"
        + secagg_dp_block(
            cost, summary["date"], summary["machine"], f"benchmarks/federation.py --scale {scale} --secagg-dp"
        )
        + f"<!-- validation:{SECAGG_DP_BLOCK}:end -->"
        if cost
        else _existing_secagg_dp_block()
    )
    update_section(
        "Federation",
        f"""## Federation ({summary["date"]})
`benchmarks/federation.py --scale {scale}` on {summary["machine"]}. Six simulated agencies built through the
ETL (`federation/agencies.py`; {summary["build_seconds"]} s, evaluation draws {summary["evaluation_build_seconds"]} s).
Each agency trains on every labelled referral of its own warehouse; the two smallest learn the outcome of
only one referral in ten (`outcome_feedback` 0.1: a few dozen labels). Each agency is tested on its
**evaluation draw**: an independent sample of the same agency (same seed, so the same world, platform mix,
random intercept and outcome model; other referrals, `SimulationConfig.draw` = 1; every outcome recorded),
scaled up ×k for the small agencies to about {EVAL_REFERRALS:,} referrals. {ROUNDS} rounds of {STEPS} local
steps; local-only and pooled training take {ROUNDS * STEPS} steps. AUC and prevalence-matched macro-F1 in points
(× 100). Model quality comes from the in-process rounds (`federation/rounds.py`), the computation the Flower
deployment runs.

**Targets** (issue 13), from this run:

{checked}

**Pooled test data (every agency's evaluation draw, thinned back to its natural share):**

| model | AUC | macro-F1 | AUC − pooled | F1 − pooled |
|---|---|---|---|---|
{pooled}

**Each agency's evaluation draw, local-only against federated (FedAvg), AUC / macro-F1**, gains with a paired
bootstrap 95 % interval ({BOOTSTRAP} resamples of the test referrals):

| agency | labelled for training (positives) | test (positives), scale ×k | local-only | federated | gain AUC | gain macro-F1 |
|---|---|---|---|---|---|---|
{per}

Two smallest agencies: {verdict} Is local-only just under-regularised? With its L2 penalty chosen
among {", ".join(f"{v:g}" for v in L2_GRID)} on the test data itself (optimistic for local-only), AUC / macro-F1:
{tuned}.{reading}

**Cost of privacy** (record-level DP-GD, clip 1.0, δ = 1e-5, FedAvg, pooled test):

| ε target | ε spent | noise multiplier | AUC | macro-F1 |
|---|---|---|---|---|
{private}

**Poisoning** ({POISONED}, one agency of six; drops in AUC points, pooled test):

| aggregation | attack | AUC | drop vs clean FedAvg | drop vs the same aggregation, clean |
|---|---|---|---|---|
{poison}

**DP counts** (scale 1.0, {", ".join(dp["months"])}, every agency, ε = {dp["epsilon_per_release"]:g} per monthly release,
OpenDP discrete Laplace, k = 10): {dp["cells"]:,} country × platform × month cells ({dp["referrals"]:,} referrals,
{dp["cells_suppressed"]} suppressed); cells ≥ 1,000: {dp["cells_at_least_1000"]}, of which within ±5 %:
{dp["share_within_5pct_at_least_1000"]} (target 0.95); cells 100–999: {dp["cells_100_to_999"]}, within ±5 %:
{dp["share_within_5pct_100_to_999"]}.

{spread}{flower}
{secagg}""",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="simulator scale of the agencies (quality part)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument(
        "--spread-seeds",
        type=lambda text: [int(s) for s in text.split(",") if s],
        default=[43, 44, 45],
        help="other seeds to re-draw the whole simulation with, for the smallest agencies' spread ('' for none)",
    )
    parser.add_argument("--flower", action="store_true", help="also time 4 real SuperNodes × 5 rounds")
    parser.add_argument(
        "--secagg-dp",
        action="store_true",
        help="also run SecAgg+ with real processes, without DP and with node-level DP at ε = 1, 3 and 8 (4 nodes)",
    )
    parser.add_argument(
        "--secagg-dp-only",
        action="store_true",
        help="build the agencies and run only the SecAgg+ and DP part; --write replaces only its table",
    )
    args = parser.parse_args()
    from federation.agencies import DEFAULT_AGENCIES, build_agency_warehouses, build_evaluation_warehouse

    if args.secagg_dp_only:
        secagg_dp_only(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        _progress("building the agencies' warehouses")
        warehouses = build_agency_warehouses(root / "agencies", args.scale, seed=args.seed)
        built = time.perf_counter() - started
        started = time.perf_counter()
        _progress("building the evaluation draws")
        factors = {code: evaluation_factor(path) for code, path in warehouses.items()}
        evaluations = {
            spec.code: build_evaluation_warehouse(spec, root / "agencies", args.scale * factors[spec.code], args.seed)
            for spec in DEFAULT_AGENCIES
        }
        evaluation_built = time.perf_counter() - started
        summary = {
            "date": f"{date.today():%Y-%m-%d}",
            "machine": machine(),
            "scale": args.scale,
            "seed": args.seed,
            "build_seconds": round(built, 1),
            "evaluation_build_seconds": round(evaluation_built, 1),
            "quality": quality(warehouses, evaluations, factors, args.seed),
            "dp_counts": dp_counts(root, args.seed),
        }
        if args.spread_seeds:
            summary["seed_spread"] = seed_spread(root / "spread", args.scale, args.spread_seeds)
        if args.flower:
            summary["flower"] = flower_speed(warehouses, root / "flower-home")
        if args.secagg_dp:
            summary["secagg_dp"] = secagg_dp(warehouses, root / "secagg-home")
    print(json.dumps(summary, indent=2))
    if args.write:
        write(summary, args.scale)


def secagg_dp_only(args: argparse.Namespace) -> None:
    """`--secagg-dp-only`: the agencies' warehouses, then only the SecAgg+ and DP runs."""
    from benchmarks.common import BENCHMARKS_MD, write_block
    from federation.agencies import build_agency_warehouses

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _progress("building the agencies' warehouses")
        warehouses = build_agency_warehouses(root / "agencies", args.scale, seed=args.seed)
        part = secagg_dp(warehouses, root / "secagg-home")
    summary = {"date": f"{date.today():%Y-%m-%d}", "machine": machine(), "scale": args.scale, "secagg_dp": part}
    print(json.dumps(summary, indent=2))
    if args.write:
        command = f"benchmarks/federation.py --scale {args.scale} --seed {args.seed} --secagg-dp-only --write"
        block = secagg_dp_block(part, summary["date"], summary["machine"], command)
        write_block(BENCHMARKS_MD, SECAGG_DP_BLOCK, block)


if __name__ == "__main__":
    main()
