"""Triage: features known at receipt (no leak), a time-split calibrated model, the registry, rules, and
scoring in the ETL batch's transaction and as re-scoring runs. Real DuckDB, the real simulator and ETL."""

from __future__ import annotations

import json
import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from builders import simulated_warehouse
from click.testing import CliRunner

from classification import registry
from classification.evaluation import model_card
from classification.features import FEATURES, LEAKY, referral_features
from classification.model import Windows, default_windows, split, train
from classification.rules import DEFAULT_RULES, RuleSetError, load_rule_set, parse_rule_set
from classification.scoring import Scorer, rescore
from grace_cli import cli
from warehouse import connect


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A two-year simulated warehouse (scale 0.005) and a copy per test that writes."""
    return simulated_warehouse(tmp_path_factory.mktemp("triage"), seed=11, scale=0.005)


@pytest.fixture
def warehouse(built, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built, path)
    return path


@pytest.fixture
def con(warehouse):
    connection = connect(warehouse)
    yield connection
    connection.close()


def test_no_field_decided_after_receipt_is_a_feature():
    assert not set(FEATURES) & LEAKY
    assert "is_escalated" not in FEATURES and "outcome" not in FEATURES


def test_changing_a_referrals_triage_closure_and_outcome_changes_none_of_its_features(con):
    before = referral_features(con).set_index("referral_key")[list(FEATURES)]
    con.execute(
        "UPDATE fact_referral SET triaged_date = NULL, closed_date = DATE '2030-01-01', status = 'closed', "
        "outcome = 'arrest', unit = 'U99', is_escalated = NOT is_escalated"
    )
    after = referral_features(con).set_index("referral_key")[list(FEATURES)]
    pd.testing.assert_frame_equal(before, after)


def test_the_split_is_by_time_and_uses_only_labels_known_by_each_windows_end(con):
    frame = referral_features(con)
    windows = default_windows(frame)
    parts = split(frame, windows)
    received = {name: pd.to_datetime(part["received_date"]).dt.date for name, part in parts.items()}
    assert received["train"].max() < windows.train_end <= received["calibration"].min()
    assert received["calibration"].max() < windows.calibration_end <= received["test"].min()
    assert (pd.to_datetime(parts["train"]["label_date"]).dt.date < windows.train_end).all()
    assert (pd.to_datetime(parts["calibration"]["label_date"]).dt.date < windows.calibration_end).all()


def test_a_trained_model_ranks_better_than_chance_and_its_card_has_the_baselines(con):
    frame = referral_features(con)
    windows = default_windows(frame)
    model, parts = train(frame, windows, seed=3)
    card = model_card(model, parts, windows, load_rule_set(DEFAULT_RULES), frame)
    test = card["test"]
    assert test["model"]["average_precision"] > 1.5 * test["model"]["base_rate"]
    assert 0 <= test["model"]["ece"] < 0.1
    assert set(test["baselines"]) == {"prevalence", "escalated", "rules_only", "first_in_first_out"}
    assert card["rows"]["test"] == test["model"]["referrals"] and len(card["data_hash"]) == 64
    again, _ = train(frame, windows, seed=3)
    assert np.array_equal(model.predict(parts["test"]), again.predict(parts["test"]))  # deterministic


def test_the_registry_refuses_an_artefact_changed_on_disk(con):
    frame = referral_features(con)
    windows = default_windows(frame)
    model, _ = train(frame, windows)
    version = registry.register(con, model, {"windows": windows.as_dict()})
    assert version == "triage-1" and registry.list_models(con)["status"].tolist() == ["candidate"]
    registry.promote(con, version)
    assert registry.active_version(con) == version
    path = registry.models_directory(con) / version / "model.joblib"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(registry.RegistryError, match="checksum differs"):
        registry.load(con, version)


def test_a_rule_set_error_names_the_line_and_the_field():
    text = DEFAULT_RULES.read_text().replace("feature: files_live_streaming", "feature: file_name")
    with pytest.raises(RuleSetError, match=r"line \d+, field 'feature': unknown feature 'file_name'"):
        parse_rule_set(text, "rules.yaml")
    with pytest.raises(RuleSetError, match="thresholds must fall"):
        parse_rule_set(DEFAULT_RULES.read_text().replace("P3: 0.15", "P3: 0.50"), "rules.yaml")
    line = DEFAULT_RULES.read_text().splitlines().index("  - id: live-streaming") + 1
    with pytest.raises(RuleSetError, match=f"line {line}, field 'weight'"):
        parse_rule_set(
            DEFAULT_RULES.read_text().replace("weight: 0.10\n  - id: sextortion", "weight: 3\n  - id: sextortion")
        )


def test_rules_add_their_weights_and_tiers_follow_the_thresholds():
    rules = parse_rule_set(
        "name: t\nversion: '1'\ntiers: {P1: 0.6, P2: 0.3, P3: 0.1}\nrules:\n"
        "  - id: live\n    all: [{feature: files_live_streaming, op: '>=', value: 1}]\n    weight: 0.5\n"
    )
    frame = pd.DataFrame({"files_live_streaming": [0, 1, 0, 1]})
    score, tier, fired = rules.apply(frame, np.array([0.05, 0.05, 0.35, 0.7]))
    assert score.tolist() == [0.05, 0.55, 0.35, 1.0]
    assert tier.tolist() == [3, 1, 1, 0] and fired[:, 0].tolist() == [False, True, False, True]


def test_an_active_model_scores_each_new_batch_in_its_transaction(built, tmp_path):
    from etl.pipeline import run_batch
    from etl.simulator import SimulationConfig, simulate
    from etl.sources import discover_batches
    from grace.config import load_pseudonym_key

    path = tmp_path / "w.duckdb"
    shutil.copy(built, path)
    con = connect(path)
    frame = referral_features(con)
    model, _ = train(frame, default_windows(frame))
    registry.promote(con, registry.register(con, model, {}))
    out = tmp_path / "more"
    simulate(SimulationConfig(out=out, seed=12, scale=0.002, start=date(2025, 1, 1), end=date(2025, 1, 31)))
    [batch] = discover_batches(out / "exports")
    report = run_batch(con, batch, load_pseudonym_key())
    assert report.scored == report.referrals_loaded > 0
    run = con.execute("SELECT kind, batch_id, model_version, referrals FROM triage_run").fetchall()
    assert run == [("batch", batch.batch_id, "triage-1", report.scored)]
    scored = con.execute("SELECT count(*), count(DISTINCT tier) FROM triage_score WHERE is_current").fetchone()
    assert scored[0] == report.scored
    assert con.execute("SELECT sum(scored) FROM rollup_triage_daily").fetchone() == (report.scored,)
    con.close()


def test_rescoring_is_a_new_run_and_only_its_scores_are_current(con):
    frame = referral_features(con)
    model, _ = train(frame, default_windows(frame))
    registry.promote(con, registry.register(con, model, {}))
    first, count = rescore(con, Scorer.active(con))
    second, again = rescore(con, Scorer.active(con), start=date(2024, 1, 1))
    assert count == len(frame) and 0 < again < count
    current = dict(con.execute("SELECT run_id, count(*) FROM triage_score WHERE is_current GROUP BY 1").fetchall())
    assert current == {first: count - again, second: again}
    totals = con.execute("SELECT sum(scored), sum(p1 + p2 + p3 + p4) FROM rollup_triage_daily").fetchone()
    assert totals == (count, count)
    from analytics.warehouse_series import load_series

    share = load_series(con, "high_priority_share", "year", parts=True)
    direct = con.execute("SELECT sum(p1 + p2), sum(scored) FROM rollup_triage_daily").fetchone()
    assert (share["numerator"].sum(), share["denominator"].sum()) == direct
    explained = con.execute("SELECT contributions, rules_fired FROM triage_score LIMIT 1").fetchone()
    assert isinstance(json.loads(explained[0]), list) and isinstance(json.loads(explained[1]), list)


def test_the_model_and_rules_commands_train_promote_score_preview_and_activate(warehouse, tmp_path):
    runner = CliRunner()

    def grace(*args):
        result = runner.invoke(cli, [*args, "--warehouse", str(warehouse)])
        assert result.exit_code == 0, result.output
        return result.output

    trained = grace("model", "train", "--promote")
    assert "registered triage-1 (active)" in trained and "first in first out" in trained
    assert "triage-1" in grace("model", "list") and "active" in grace("model", "list")
    assert "scored" in grace("model", "score", "--quiet")
    assert "average_precision" in grace("model", "evaluate", "triage-1", "--json")
    stricter = tmp_path / "rules.yaml"
    stricter.write_text(
        DEFAULT_RULES.read_text().replace("P1: 0.60", "P1: 0.90").replace('version: "1"', 'version: "2"')
    )
    assert "ok: default@2" in runner.invoke(cli, ["rules", "check", str(stricter)]).output
    assert "would change tier" in grace("rules", "preview", str(stricter))
    assert "default@2 is active" in grace("rules", "activate", str(stricter))
    assert "P1: 0.90" in grace("rules", "show")
    windows = Windows(date(2023, 1, 1), date(2023, 9, 1), date(2023, 12, 1), date(2024, 12, 31))
    assert windows.train_end < windows.calibration_end


def test_explanations_are_the_log_odds_each_feature_group_adds_over_its_typical_values(con):
    from classification.features import CATEGORICAL, GROUPS

    frame = referral_features(con)
    model, parts = train(frame, default_windows(frame))
    rows = parts["test"].head(40)
    explained = model.explain(rows, top=len(GROUPS))
    matrix = model.matrix(rows)
    base = model.booster.decision_function(matrix)
    for name, columns in GROUPS.items():
        occluded = matrix.copy()
        for column in columns:
            if column in CATEGORICAL:
                occluded[column] = pd.Categorical([model.typical[column]] * len(rows), categories=model.levels[column])
            else:
                occluded[column] = float(model.typical[column])
        effect = base - model.booster.decision_function(occluded)
        for i, pairs in enumerate(explained):
            stated = dict(pairs).get(name)
            if effect[i] > 0.005:
                assert stated == pytest.approx(round(float(effect[i]), 3), abs=1e-3)
            else:
                assert stated is None
