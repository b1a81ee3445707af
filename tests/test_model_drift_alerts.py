"""Monitoring the active triage model in `grace analyse`: weekly drift and calibration stored with the run,
drifted weeks raised as EU-wide "Model drift" alerts that a country-scoped user never sees and that the
Alerts page renders. A small real simulated warehouse, a real model, a shift injected in a copy."""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from builders import query_frame, simulated_warehouse

from analytics.model_monitoring import ALERT_WEEKS, DRIFT_SERIES, drift_alerts, rows_of
from analytics.warehouse_run import run_analysis
from classification import registry
from classification.features import referral_features
from classification.model import default_windows, train
from classification.monitoring import DriftParams, Monitoring, monitor_model, reviewed_labels
from classification.scoring import Scorer, rescore
from dashboards.callbacks import alerts
from dashboards.state import ViewState
from grace.scope import Scope, ScopeError
from warehouse import WarehouseReader, connect

SHIFT_FROM = date(2024, 12, 23)  # the last two weeks of the simulated data (2024-12-23 and 2024-12-30)
SHIFTED = "has_minor_to_minor"  # about 3 % of referrals; the simulator keeps it steady (unlike channel or platform)


@pytest.fixture(scope="module")
def modelled(tmp_path_factory):
    """A two-year simulated warehouse with a trained, promoted model whose scores are current."""
    path = simulated_warehouse(tmp_path_factory.mktemp("drift"), seed=11, scale=0.005)
    con = connect(path)
    try:
        frame = referral_features(con)
        windows = default_windows(frame)
        model, _ = train(frame, windows, seed=3)
        registry.promote(con, registry.register(con, model, {"windows": windows.as_dict()}))
        rescore(con, Scorer.active(con))  # the high-priority share, the series drift alerts link to
    finally:
        con.close()
    return path


def analysed_copy(source, target, shift: bool):
    """A copy of the warehouse (with its model directory), optionally every referral of the last two weeks
    flagged minor-to-minor, analysed with one cheap metric and grain."""
    path = target / "warehouse.duckdb"
    shutil.copy(source, path)
    shutil.copytree(str(source) + ".models", str(path) + ".models")
    if shift:
        con = connect(path)
        con.execute("UPDATE fact_referral SET has_minor_to_minor = TRUE WHERE received_date >= ?", [SHIFT_FROM])
        con.close()
    run = run_analysis(path, metrics=["referrals"], grains=["month"], splits=(None,), drift=DriftParams(0.2))
    return path, run


@pytest.fixture(scope="module")
def shifted(modelled, tmp_path_factory):
    return analysed_copy(modelled, tmp_path_factory.mktemp("shifted"), shift=True)


@pytest.fixture(scope="module")
def steady(modelled, tmp_path_factory):
    return analysed_copy(modelled, tmp_path_factory.mktemp("steady"), shift=False)


def drift_rows(path):
    return query_frame(
        path,
        "SELECT * FROM analytics_alert WHERE kind = 'drift' AND run_id = "
        "(SELECT run_id FROM analytics_run ORDER BY created_at DESC LIMIT 1) ORDER BY date, subject",
    )


def test_the_run_stores_the_models_weekly_monitoring(shifted):
    path, run = shifted
    stored = query_frame(path, "SELECT * FROM analytics_model_monitor")
    assert run.rows["analytics_model_monitor"] == len(stored) > 0
    assert set(stored["model_version"]) == {"triage-1"} and set(stored["run_id"]) == {run.run_id}
    measures = set(stored["measure"])
    assert {"feature_psi", "score_psi", "ece", "predicted", "observed"} <= measures
    assert "ece_reviewed" not in measures  # no reviews given: nothing made up
    psi = stored[stored["measure"] == "feature_psi"]
    assert psi["noise"].ge(0).all() and psi["feature"].notna().all()
    assert stored.loc[stored["measure"] == "score_psi", "feature"].isna().all()
    parameters = query_frame(path, "SELECT parameters FROM analytics_run")["parameters"].iloc[0]
    assert '"drift_psi": 0.2' in parameters and '"model_version": "triage-1"' in parameters


def test_the_shifted_feature_raises_a_material_drift_alert_in_each_shifted_week(shifted):
    path, _ = shifted
    found = drift_rows(path)
    flagged = found[found["subject"] == SHIFTED + " (sudden shift)"]
    assert sorted(pd.to_datetime(flagged["date"]).dt.date) == [date(2024, 12, 23), date(2024, 12, 30)]
    assert flagged["material"].all() and flagged["is_new"].all()
    assert (flagged["after"] > 0.2 + flagged["before"]).all() and (flagged["strength"] > 1).all()
    assert set(found["series_id"]) == {DRIFT_SERIES.text} and set(found["split_by"]) == {"none"}
    assert set(flagged["alert_key"]) == {
        f"{DRIFT_SERIES.text}|drift:triage-1:shift:has_minor_to_minor|2024-12-23",
        f"{DRIFT_SERIES.text}|drift:triage-1:shift:has_minor_to_minor|2024-12-30",
    }
    # only the latest 13 weeks of data raise alerts
    assert pd.to_datetime(found["date"]).dt.date.min() >= date(2024, 12, 30) - pd.Timedelta(weeks=ALERT_WEEKS - 1)


def test_without_the_shift_the_feature_raises_no_drift_alert(steady):
    path, _ = steady
    found = drift_rows(path)
    assert not found["subject"].str.startswith(SHIFTED).any()
    stored = query_frame(
        path,
        "SELECT * FROM analytics_model_monitor WHERE measure = 'feature_psi' AND feature = ? AND drifted",
        [SHIFTED],
    )
    assert stored.empty


def test_a_second_run_keeps_the_alert_keys_and_they_are_no_longer_new(shifted):
    path, _ = shifted
    first = drift_rows(path)
    run_analysis(path, metrics=["referrals"], grains=["month"], splits=(None,), drift=DriftParams(0.2))
    again = drift_rows(path)
    assert set(again["alert_key"]) == set(first["alert_key"]) and not again["is_new"].any()


def test_drift_alerts_are_listed_in_words_linked_to_the_score_series_and_drawn(shifted):
    path, _ = shifted
    reader = WarehouseReader(path)
    found = alerts.tables(reader, alerts.AlertsView(kinds=("drift",), show="all"))
    rows = [r for r in found.alerts if f"feature {SHIFTED}" in r["headline"]]
    assert len(rows) == 2 and {r["kind"] for r in found.alerts} == {"Model drift"}
    assert len({r["id"] for r in found.alerts}) == len(found.alerts)  # one row id per feature and week
    assert (
        rows[0]["headline"].startswith(f"feature {SHIFTED} (sudden shift): PSI ")
        and "(chance 0." in rows[0]["headline"]
    )
    assert all("metric=high_priority_share" in r["open"] and "grain=week" in r["open"] for r in rows)
    view = alerts.select(alerts.AlertsView(kinds=("drift",), show="all"), rows[0]["id"])
    assert view.state.series == DRIFT_SERIES.text and view.at == rows[0]["date"]
    drawn = alerts.draw_series(reader, view)
    assert drawn.figure.data and drawn.figure.data[0].name == "Observed" and "High priority share" in drawn.subtitle
    # the default view (what needs attention) lists them too: material by construction
    attention = alerts.tables(reader, alerts.AlertsView(kinds=("drift",)))
    assert {r["alert_key"] for r in attention.alerts} == {r["alert_key"] for r in found.alerts}


def test_a_country_scoped_user_sees_no_drift_alert(shifted):
    path, _ = shifted
    reader = WarehouseReader(path)
    drifted = [r for r in alerts.tables(reader, alerts.AlertsView(show="all")).alerts if r["kind"] == "Model drift"]
    assert drifted
    scoped = alerts.AlertsView(state=ViewState().within(Scope.of_countries(["DEU"])), show="all")
    listed = alerts.tables(reader, scoped).alerts
    assert not [r for r in listed if r["kind"] == "Model drift"]
    assert not alerts.tables(reader, scoped.with_changes(kinds=("drift",))).alerts
    with pytest.raises(ScopeError, match="outside your scope"):  # nor can a crafted request review one
        alerts.review_keys(scoped, [drifted[0]["alert_key"]])


# --- the pieces, without a warehouse ----------------------------------------------------------------


def test_only_drifted_weeks_of_the_latest_13_become_alerts():
    weeks = pd.date_range("2024-01-01", periods=20, freq="W-MON").date
    drift = pd.DataFrame(
        {
            "week": np.repeat(weeks, 2),
            "measure": ["feature_shift", "score_psi"] * 20,
            "feature": ["channel", ""] * 20,
            "value": 0.5,
            "noise": 0.05,
            "referrals": 100,
            "drifted": True,
        }
    )
    rows = rows_of("triage-7", Monitoring(drift, pd.DataFrame(columns=["week", "labelled", "ece"])))
    found = drift_alerts(rows, DriftParams(0.2))
    assert len(found) == 2 * ALERT_WEEKS and min(a["date"] for a in found) == weeks[-ALERT_WEEKS]
    assert {a["subject"] for a in found} == {"channel (sudden shift)", "score"}
    assert all(a["material"] is True and a["alert_key"].count("|") == 5 for a in found)


def test_reviewed_labels_take_each_referrals_latest_review_and_feed_a_separate_ece():
    frame = pd.DataFrame({"referral_key": ["1", "2", "3"]})
    reviews = pd.DataFrame(
        {
            "referral_key": [1, 1, 2],
            "label": [0, 1, 0],
            "reviewed_at": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-03"]),
        }
    )
    assert reviewed_labels(frame, reviews).tolist() == [1, 0, pd.NA]


def test_the_monitor_computes_ece_on_reviewed_labels_and_the_last_full_quarters_reliability(modelled):
    con = connect(modelled, read_only=True)
    try:
        version = registry.active_version(con)
        model, windows = registry.load(con, version), registry.card(con, version)["windows"]
        frame = referral_features(con, start=date.fromisoformat(windows["start"]))
    finally:
        con.close()
    recent = frame[pd.to_datetime(frame["received_date"]) >= pd.Timestamp("2024-10-01")]
    reviews = pd.DataFrame(
        {"referral_key": recent["referral_key"], "label": 1, "reviewed_at": pd.Timestamp("2025-01-10")}
    )
    found = monitor_model(model, frame, windows, params=DriftParams(0.2), reviews=reviews)
    assert not found.reviewed.empty and pd.to_datetime(found.reviewed["week"]).min() >= pd.Timestamp("2024-09-30")
    assert np.allclose(found.reviewed["observed"], 1.0)  # every reviewed label is 1 here
    # the latest full quarter: 2024-Q4 (the data end on 31 December), on the labels known now
    assert set(found.reliability["quarter"]) == {date(2024, 10, 1)} and found.reliability["count"].sum() > 0
    assert found.reliability["predicted"].between(0, 1).all() and found.reliability["observed"].between(0, 1).all()


def test_a_schema_7_warehouse_is_upgraded_with_the_monitor_table_and_the_alert_subject(tmp_path):
    from warehouse import SCHEMA_VERSION, ensure_schema, upgrade_schema

    layout = (
        "SELECT table_name, ordinal_position, column_name, data_type FROM information_schema.columns "
        "WHERE table_name IN ('analytics_alert', 'analytics_model_monitor') ORDER BY ALL"
    )
    fresh = connect(tmp_path / "fresh.duckdb")
    ensure_schema(fresh)
    old = connect(tmp_path / "old.duckdb")
    ensure_schema(old)
    old.execute("DROP TABLE analytics_model_monitor")
    old.execute("ALTER TABLE analytics_alert DROP COLUMN subject")
    old.execute("UPDATE warehouse_meta SET value = '7' WHERE key = 'schema_version'")
    try:
        assert upgrade_schema(old) == ("7", SCHEMA_VERSION)
        pd.testing.assert_frame_equal(old.execute(layout).df(), fresh.execute(layout).df())
    finally:
        old.close()
        fresh.close()


def test_the_threshold_comes_from_grace_drift_psi_or_the_drift_psi_option(modelled, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from grace.errors import ConfigError
    from grace.settings import drift_psi
    from grace_cli import cli

    monkeypatch.setenv("GRACE_DRIFT_PSI", "0.35")
    assert drift_psi() == 0.35
    monkeypatch.setenv("GRACE_DRIFT_PSI", "lots")
    with pytest.raises(ConfigError, match="GRACE_DRIFT_PSI"):
        drift_psi()
    monkeypatch.setenv("GRACE_DRIFT_PSI", "0.35")
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(modelled, path)
    shutil.copytree(str(modelled) + ".models", str(path) + ".models")
    args = ["analyse", "--warehouse", str(path), "--metrics", "referrals", "--grain", "month", "--quiet"]
    result = CliRunner().invoke(cli, [*args, "--drift-psi", "10"])
    assert result.exit_code == 0, result.output
    assert '"drift_psi": 10.0' in query_frame(path, "SELECT parameters FROM analytics_run")["parameters"].iloc[0]
    assert drift_rows(path).empty  # nothing drifts by a PSI of 10 plus its noise
    run_analysis(path, metrics=["referrals"], grains=["month"], splits=(None,))  # no threshold given: the setting
    latest = "SELECT parameters FROM analytics_run ORDER BY created_at DESC LIMIT 1"
    assert '"drift_psi": 0.35' in query_frame(path, latest)["parameters"].iloc[0]
