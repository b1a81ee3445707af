"""The federable model, its aggregation rules, record-level DP and the agencies' DP counts.

Most tests use synthetic encoded data drawn from a known logistic model (fast, exact expectations); the
agencies and the DP release use real simulated warehouses built through the ETL.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from classification.features import referral_features
from federation.agencies import (
    DEFAULT_AGENCIES,
    AgencySpec,
    build_agency_warehouse,
    build_agency_warehouses,
    build_evaluation_warehouse,
)
from federation.learning import (
    N_FEATURES,
    NodeData,
    TrainingConfig,
    encode,
    evaluate,
    fedavg,
    initial_weights,
    node_dataset,
    train_locally,
)
from federation.privacy import PrivacyConfig, clipped_gradient_sum, epsilon_spent, noise_for_epsilon
from federation.release import BudgetExceeded, BudgetLedger, laplace_counts, true_counts
from federation.robust import krum, trimmed_mean
from federation.rounds import FederationConfig, run_rounds
from warehouse import connect

TRUE_COEF = np.random.default_rng(0).normal(0, 1.0, N_FEATURES)


def synthetic(n: int, seed: int, shift: float = 0.0) -> NodeData:
    """Encoded-like rows (sparse 0/1 and small counts) with labels from a known logistic model."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, N_FEATURES)) < 0.08).astype(np.float32)
    logits = X @ TRUE_COEF - 1.0 + shift
    y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(np.int8)
    return NodeData(X, y)


@pytest.fixture(scope="module")
def agencies():
    return {"A": synthetic(3000, 1), "B": synthetic(1500, 2, 0.3), "C": synthetic(800, 3, -0.3), "D": synthetic(60, 4)}


@pytest.fixture(scope="module")
def test_set():
    return synthetic(4000, 99)


def test_the_encoding_needs_no_statistics_from_the_data_so_every_agency_gets_the_same_columns():
    from classification.features import BOOLEAN, CATEGORICAL, NUMERIC

    row = dict.fromkeys(CATEGORICAL, "X") | dict.fromkeys(BOOLEAN, False) | dict.fromkeys(NUMERIC, 3)
    alone = encode(pd.DataFrame([row]))
    with_others = encode(pd.DataFrame([row, {**row, "platform_name": "NeverSeenBefore"}]))
    assert alone.shape == (1, N_FEATURES)
    assert np.array_equal(alone[0], with_others[0])
    assert with_others[1].sum() == alone[0].sum()  # an unseen platform still has a bucket
    assert math.isclose(alone[0].max(), math.log1p(3), rel_tol=1e-6)


def test_local_training_learns_and_fedprox_keeps_the_update_near_the_global_model(agencies, test_set):
    start = initial_weights()
    learned = train_locally(start, agencies["A"], TrainingConfig(steps=200))
    assert evaluate(learned, test_set)["auc"] > 0.75
    assert evaluate(learned, test_set)["log_loss"] < evaluate(start, test_set)["log_loss"]
    tethered = train_locally(start, agencies["A"], TrainingConfig(steps=200, proximal_mu=50.0))
    assert np.linalg.norm(tethered[0]) < 0.2 * np.linalg.norm(learned[0])


def test_fedavg_is_the_example_weighted_mean():
    a, b = [np.array([1.0, 2.0]), np.array([0.0])], [np.array([4.0, 8.0]), np.array([3.0])]
    mean = fedavg([(a, 1), (b, 2)])
    assert np.allclose(mean[0], [3.0, 6.0]) and np.allclose(mean[1], [2.0])


def test_trimmed_mean_and_krum_ignore_one_far_outlier():
    honest = [[np.full(3, value), np.array([value])] for value in (1.0, 1.1, 0.9, 1.05)]
    outlier = [np.full(3, 1000.0), np.array([1000.0])]
    for robust in (trimmed_mean([*honest, outlier], trim=1), krum([*honest, outlier], byzantine=1)):
        assert np.all(np.abs(robust[0] - 1.0) < 0.1)
    with pytest.raises(ValueError):
        krum(honest[:3], byzantine=1)


def test_every_clipped_per_referral_gradient_is_within_the_clip_norm():
    rng = np.random.default_rng(5)
    X = rng.normal(0, 3, (50, 6))
    error = rng.normal(0, 1, 50)
    total_coef, total_bias = clipped_gradient_sum(X, error, clip_norm=0.5)
    norms = np.abs(error) * np.sqrt((X**2).sum(axis=1) + 1)
    scale = np.minimum(1.0, 0.5 / norms)
    assert np.allclose(total_coef, (X * (error * scale)[:, None]).sum(axis=0))
    assert np.all(norms * scale <= 0.5 + 1e-12) and math.isclose(total_bias, float((error * scale).sum()))


def test_the_noise_found_for_an_epsilon_spends_that_epsilon_and_more_steps_spend_more():
    for target in (1.0, 3.0, 8.0):
        noise = noise_for_epsilon(target, steps=300)
        assert epsilon_spent(noise, 300) <= target
        assert epsilon_spent(noise * 0.99, 300) > target * 0.98
    assert epsilon_spent(2.0, 600) > epsilon_spent(2.0, 300) > epsilon_spent(4.0, 300)


def test_federated_training_is_deterministic_and_close_to_pooled_training(agencies, test_set):
    config = FederationConfig(rounds=5, training=TrainingConfig(steps=40))
    first, second = run_rounds(agencies, config), run_rounds(agencies, config)
    assert all(np.array_equal(a, b) for a, b in zip(first.weights, second.weights))
    pooled = NodeData(np.vstack([d.X for d in agencies.values()]), np.concatenate([d.y for d in agencies.values()]))
    central = train_locally(initial_weights(), pooled, TrainingConfig(steps=200))
    assert evaluate(first.weights, test_set)["auc"] > evaluate(central, test_set)["auc"] - 0.02
    assert first.lineage["nodes"] == ["A", "B", "C", "D"] and len(first.rounds) == 5 and first.epsilon is None
    assert all(record.bytes_sent == 4 * (N_FEATURES + 1) * 8 for record in first.rounds)


def test_a_scaled_poisoned_node_breaks_fedavg_but_not_krum_or_the_trimmed_mean(agencies, test_set):
    agencies = {**agencies, "E": synthetic(1000, 5), "F": synthetic(2000, 6, 0.2)}  # one poisoned node of six
    clean = evaluate(run_rounds(agencies, FederationConfig(rounds=5)).weights, test_set)["auc"]
    attacked = {"B": "scaled"}
    fedavg_auc = evaluate(run_rounds(agencies, FederationConfig(rounds=5), attacked).weights, test_set)["auc"]
    assert fedavg_auc < clean - 0.1
    for strategy in ("krum", "trimmed-mean"):
        robust_clean = evaluate(run_rounds(agencies, FederationConfig(rounds=5, strategy=strategy)).weights, test_set)
        result = run_rounds(agencies, FederationConfig(rounds=5, strategy=strategy), attacked)
        assert evaluate(result.weights, test_set)["auc"] > robust_clean["auc"] - 0.03, strategy
        assert result.lineage["poisoned"] == ["B"]


def test_dp_training_reports_the_epsilon_it_spent_and_still_learns(agencies, test_set):
    steps, rounds = 40, 5
    noise = noise_for_epsilon(8.0, steps * rounds)
    result = run_rounds(
        agencies,
        FederationConfig(rounds=rounds, training=TrainingConfig(steps=steps), privacy=PrivacyConfig(1.0, noise)),
    )
    assert result.epsilon is not None and 7.5 < result.epsilon <= 8.0 and result.delta == 1e-5
    assert evaluate(result.weights, test_set)["auc"] > 0.7


# --- simulated agencies and their DP releases --------------------------------------------------------

SMALL = (
    AgencySpec("AGY-NLD", ("NLD",), 4),
    AgencySpec("AGY-MLT", ("MLT",), 5, share=0.4),
    AgencySpec("AGY-LUX", ("LUX",), 6, start=date(2024, 7, 1)),
)


@pytest.fixture(scope="module")
def agency_warehouses(tmp_path_factory):
    return build_agency_warehouses(tmp_path_factory.mktemp("agencies"), scale=0.01, agencies=SMALL)


def test_simulated_agencies_differ_in_size_and_in_how_many_labels_they_have(agency_warehouses):
    sizes = {code: len(node_dataset(path)) for code, path in agency_warehouses.items()}
    assert sizes["AGY-NLD"] > 10 * sizes["AGY-MLT"] > 0
    assert 0 < sizes["AGY-LUX"] < sizes["AGY-NLD"] / 10


def _labels(path) -> pd.Series:
    """Label of every labelled referral of a warehouse, by referral key."""
    con = connect(path, read_only=True)
    try:
        frame = referral_features(con)
    finally:
        con.close()
    return frame.dropna(subset=["label"]).set_index("referral_key")["label"].astype(int)


SCARCE = [spec for spec in DEFAULT_AGENCIES if spec.outcome_feedback < 1]


@pytest.mark.parametrize("spec", SCARCE, ids=[spec.code for spec in SCARCE])
def test_a_label_scarce_agency_has_the_few_dozen_labels_its_spec_promises_and_no_others(spec, tmp_path):
    scarce = _labels(build_agency_warehouse(spec, tmp_path / "scarce", scale=0.1))  # the benchmark's scale
    full = _labels(build_agency_warehouse(replace(spec, outcome_feedback=1.0), tmp_path / "full", scale=0.1))
    assert 20 <= len(scarce) <= 100  # a few dozen labelled outcomes
    # the same referrals with their outcome reported back on one in ten, at random, with the same outcomes
    assert scarce.index.isin(full.index).all() and (full[scarce.index] == scarce).all()
    share = spec.outcome_feedback
    assert abs(len(scarce) - share * len(full)) < 4 * math.sqrt(share * (1 - share) * len(full))


def test_an_evaluation_draw_is_another_sample_of_the_agency_with_every_outcome(tmp_path):
    spec = SCARCE[0]
    own = _labels(build_agency_warehouse(spec, tmp_path, scale=0.1))
    evaluation = _labels(build_evaluation_warehouse(spec, tmp_path, scale=0.3))
    assert len(evaluation) > 20 * len(own) and 0 < evaluation.mean() < 0.5
    assert len(evaluation.index.intersection(own.index)) < 0.05 * len(own)  # other referrals


def test_a_release_is_noisy_suppressed_under_k_and_spent_once_per_month(agency_warehouses, tmp_path):
    path = agency_warehouses["AGY-NLD"]
    platforms = sorted(true_counts(path, "2024-03", ["NLD"], _platforms(path))["platform_name"])
    ledger = BudgetLedger(tmp_path / "budget.sqlite", budget=2.0)
    first = ledger.release("AGY-NLD", path, "2024-03", 1.0, ["NLD"], platforms, k=10)
    again = ledger.release("AGY-NLD", path, "2024-03", 1.0, ["NLD"], platforms, k=10)
    assert first.spent_now and not again.spent_now and ledger.spent() == 1.0
    pd.testing.assert_frame_equal(first.cells, again.cells)  # the same noise: repeating never averages it away
    shown = first.cells.dropna(subset=["referrals"])
    assert (shown["referrals"] >= 10).all() and first.cells["suppressed"].eq(first.cells["referrals"].isna()).all()
    ledger.release("AGY-NLD", path, "2024-04", 1.0, ["NLD"], platforms)
    with pytest.raises(BudgetExceeded, match="budget of 2"):
        ledger.release("AGY-NLD", path, "2024-05", 0.5, ["NLD"], platforms)
    assert ledger.spent() == 2.0


def test_laplace_counts_at_epsilon_one_keep_large_counts_within_five_percent():
    noisy = laplace_counts([1000] * 2000, epsilon=1.0)
    assert sum(abs(value - 1000) <= 50 for value in noisy) / len(noisy) >= 0.95
    assert len(set(noisy)) > 1  # noise was added


def _platforms(path) -> list[str]:
    from warehouse import connect

    con = connect(path, read_only=True)
    try:
        return [row[0] for row in con.execute("SELECT DISTINCT platform_name FROM rollup_referral_daily").fetchall()]
    finally:
        con.close()


def test_an_agency_adopts_the_global_model_into_its_registry_and_scores_with_it(agency_warehouses, tmp_path):
    from classification import registry
    from classification.features import referral_features
    from classification.linear import LinearTriageModel
    from classification.scoring import Scorer
    from federation.adopt import adopt_global_model
    from federation.model_store import write_global_model
    from warehouse import connect

    result = run_rounds(
        {code: node_dataset(path).split()[0] for code, path in agency_warehouses.items()},
        FederationConfig(rounds=2, training=TrainingConfig(steps=30)),
    )
    model_dir = write_global_model(
        tmp_path / "global", result.weights, {"run_id": 7, "strategy": "fedavg", "rounds_completed": 2, "nodes": 3}
    )
    home = agency_warehouses["AGY-NLD"]
    as_is = adopt_global_model(model_dir, home)
    tuned = adopt_global_model(model_dir, home, fine_tune_steps=20, promote=True)
    assert as_is.card["lineage"]["federated"]["rounds"] == 2 and as_is.card["lineage"]["fine_tuned"] is None
    assert tuned.card["lineage"]["fine_tuned"]["steps"] == 20 and tuned.card["kind"] == "triage-federated"
    assert 0.5 < tuned.card["test"]["model"]["roc_auc"] <= 1.0

    con = connect(home, read_only=True)
    try:
        listed = registry.list_models(con).set_index("version")["status"].to_dict()
        assert listed[as_is.version] == "candidate" and listed[tuned.version] == "active"
        loaded = registry.load(con, tuned.version)
        assert isinstance(loaded, LinearTriageModel)
        assert not np.allclose(loaded.coefficients, registry.load(con, as_is.version).coefficients)  # fine-tuned
        scored = Scorer.active(con).score(referral_features(con).head(50))
    finally:
        con.close()
    assert scored["probability"].between(0, 1).all() and scored["tier"].isin(["P1", "P2", "P3", "P4"]).all()
    assert any(json.loads(pairs) for pairs in scored["contributions"])  # explained by feature group


def test_grace_federation_release_writes_a_release_and_refuses_past_the_budget(agency_warehouses, tmp_path):
    from click.testing import CliRunner

    from grace_cli import cli

    warehouse = str(agency_warehouses["AGY-NLD"])
    common = ["federation", "release", "--agency", "AGY-NLD", "--warehouse", warehouse, "--countries", "NLD"]
    runner = CliRunner()
    first = runner.invoke(cli, [*common, "--month", "2024-03", "--budget", "1.5", "--out", str(tmp_path / "a.json")])
    assert first.exit_code == 0, first.output
    assert "ε = 1 spent now" in first.output and "budget spent 1 of 1.5" in first.output
    released = json.loads((tmp_path / "a.json").read_text())
    assert released["epsilon"] == 1.0 and released["delta"] == 0.0 and released["cells"]
    assert {cell["country_iso3"] for cell in released["cells"]} == {"NLD"}
    again = runner.invoke(cli, [*common, "--month", "2024-03", "--budget", "1.5", "--out", str(tmp_path / "b.json")])
    assert "nothing spent" in again.output and (tmp_path / "b.json").read_text() == (tmp_path / "a.json").read_text()
    refused = runner.invoke(cli, [*common, "--month", "2024-04", "--budget", "1.5", "--out", str(tmp_path / "c.json")])
    assert refused.exit_code != 0 and "budget of 1.5" in refused.output and not (tmp_path / "c.json").exists()
    bad = runner.invoke(cli, [*common, "--month", "2024-13", "--out", str(tmp_path / "d.json")])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
