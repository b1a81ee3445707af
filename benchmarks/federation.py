"""Federation benchmark: one run, everything side by side, against the issue's targets.

Six simulated agencies that differ (`federation.agencies.DEFAULT_AGENCIES`: sizes over 100× apart,
their own platform mixes and label rates, one with a drifted outcome model, one that joined late with few
labels), each with its own warehouse built through the real ETL. Each agency's labelled referrals are
split in time: the first 70 % to train, the last 30 % to test. Then, in one process
(`federation.rounds`, the reference computation the Flower deployment is held to):

- **quality**: pooled (centralised) training on every agency's training data; FedAvg, FedProx, trimmed
  mean and Krum; each agency alone (local-only). ROC AUC and prevalence-matched macro-F1 on the pooled test
  data and on each agency's own test data. Targets: federated within 2 points of pooled; at least 5
  points above local-only for the two agencies with the fewest labels;
- **privacy**: record-level DP-GD at ε = 1, 3 and 8 (δ = 1e-5, Rényi accounting) — the cost in AUC and F1;
- **poisoning**: one agency of six sends a scaled (×−10) or a label-flipped update; FedAvg, trimmed mean and
  Krum, against the clean run. Target: robust aggregation within 2 points of the clean FedAvg run;
- **DP counts**: every agency releases country × platform counts for each month of a quarter at ε = 1 at
  scale 1.0 (EU public magnitudes); the share of published EU cells ≥ 1,000 within ±5 % of the truth
  (target 95 %).

Prints JSON; with --write updates the "Federation" section of docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/federation.py --write
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
EPSILONS = (1.0, 3.0, 8.0)
POISONED = "AGY-FRA"  # the second-largest agency: its update weighs most after Germany's


def _pooled(parts):
    from federation.learning import NodeData

    parts = [part for part in parts if len(part)]
    return NodeData(np.vstack([p.X for p in parts]), np.concatenate([p.y for p in parts]))


def _scores(metrics: dict) -> dict:
    return {"auc": round(100 * metrics["auc"], 1), "macro_f1": round(100 * metrics["macro_f1"], 1)}


def quality(warehouses: dict[str, Path]) -> dict:
    from federation.learning import TrainingConfig, evaluate, initial_weights, node_dataset, train_locally
    from federation.privacy import PrivacyConfig, noise_for_epsilon
    from federation.rounds import FederationConfig, run_rounds

    data = {code: node_dataset(path) for code, path in warehouses.items()}
    splits = {code: d.split(0.3) for code, d in data.items()}
    train = {code: parts[0] for code, parts in splits.items()}
    test = {code: parts[1] for code, parts in splits.items()}
    pooled_test = _pooled(test.values())
    training = TrainingConfig(steps=STEPS)

    agencies = [
        {
            "agency": code,
            "labelled": len(data[code]),
            "positive_rate": round(float(data[code].y.mean()), 3) if len(data[code]) else None,
            "test": len(test[code]),
            "test_positives": int(test[code].y.sum()),
        }
        for code in warehouses
    ]
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
    per_agency = []
    for code in warehouses:
        local = train_locally(initial_weights(), train[code], TrainingConfig(steps=ROUNDS * STEPS))
        alone, together = evaluate(local, test[code]), evaluate(fedavg, test[code])
        per_agency.append(
            {
                "agency": code,
                "local_only": _scores(alone),
                "federated": _scores(together),
                "gain_auc": round(100 * (together["auc"] - alone["auc"]), 1),
                "gain_macro_f1": round(100 * (together["macro_f1"] - alone["macro_f1"]), 1),
            }
        )
    smallest = [row["agency"] for row in sorted(agencies, key=lambda row: row["labelled"])[:2]]

    private = []
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


def dp_counts(root: Path, seed: int) -> dict:
    """Scale 1.0, one quarter: each agency releases each month at ε = 1; EU cells compared with the truth."""
    from federation.agencies import DEFAULT_AGENCIES, build_agency_warehouse
    from federation.release import BudgetLedger, true_counts
    from warehouse import connect

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
        "bytes_per_round": [r["bytes"] for r in lineage["per_round"]],
        **_scores(evaluate(weights, test)),
    }


def write(summary: dict, scale: float) -> None:
    q = summary["quality"]
    central = q["pooled_test"][0]
    pooled = "\n".join(
        f"| {r['model']} | {r['auc']} | {r['macro_f1']} | {round(r['auc'] - central['auc'], 1)} "
        f"| {round(r['macro_f1'] - central['macro_f1'], 1)} |"
        for r in q["pooled_test"]
    )
    agencies = {row["agency"]: row for row in q["agencies"]}
    per = "\n".join(
        f"| {r['agency']}{' (smallest)' if r['agency'] in q['smallest'] else ''} | {agencies[r['agency']]['labelled']:,} "
        f"| {agencies[r['agency']]['positive_rate']} | {agencies[r['agency']]['test']} ({agencies[r['agency']]['test_positives']}) "
        f"| {r['local_only']['auc']} / {r['local_only']['macro_f1']} | {r['federated']['auc']} / {r['federated']['macro_f1']} "
        f"| {r['gain_auc']:+} / {r['gain_macro_f1']:+} |"
        for r in q["per_agency"]
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
    speed = summary.get("flower")
    flower = (
        f"**Speed with real processes** (`grace federation`: a hub with TLS and node authentication, "
        f"{speed['nodes']} SuperNodes ({', '.join(speed['agencies'])}), {speed['rounds']} rounds of FedAvg): "
        f"training took {speed['train_seconds']} s against the 3-minute target (ratio {speed['ratio_to_target']}); "
        f"hub and nodes started in {speed['start_seconds']} s; seconds per round {speed['seconds_per_round']}; "
        f"{speed['bytes_per_round'][0]:,} bytes per round; AUC {speed['auc']}, macro-F1 {speed['macro_f1']} on "
        "those agencies' pooled test data.\n"
        if speed
        else "**Speed with real processes**: not measured in this run (`--flower`).\n"
    )
    update_section(
        "Federation",
        f"""## Federation ({summary["date"]})
`benchmarks/federation.py --scale {scale}` on {summary["machine"]}. Six simulated agencies built through the
ETL (`federation/agencies.py`); each agency's labelled referrals split in time, 70 % train / 30 % test;
{ROUNDS} rounds of {STEPS} local steps; AUC and prevalence-matched macro-F1 in points (× 100). Model quality
comes from the in-process rounds (`federation/rounds.py`), the computation the Flower deployment runs.

**Pooled test data (every agency's test part):**

| model | AUC | macro-F1 | AUC − pooled | F1 − pooled |
|---|---|---|---|---|
{pooled}

**Each agency's own test data, local-only against federated (FedAvg), AUC / macro-F1:**

| agency | labelled | positive rate | test (positives) | local-only | federated | gain |
|---|---|---|---|---|---|---|
{per}

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

{flower}""",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="simulator scale of the agencies (quality part)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument("--flower", action="store_true", help="also time 4 real SuperNodes × 5 rounds")
    args = parser.parse_args()
    from federation.agencies import build_agency_warehouses

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        warehouses = build_agency_warehouses(root / "agencies", args.scale, seed=args.seed)
        built = time.perf_counter() - started
        summary = {
            "date": f"{date.today():%Y-%m-%d}",
            "machine": machine(),
            "scale": args.scale,
            "build_seconds": round(built, 1),
            "quality": quality(warehouses),
            "dp_counts": dp_counts(root, args.seed),
        }
        if args.flower:
            summary["flower"] = flower_speed(warehouses, root / "flower-home")
    print(json.dumps(summary, indent=2))
    if args.write:
        write(summary, args.scale)


if __name__ == "__main__":
    main()
