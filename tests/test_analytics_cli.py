"""`grace series analyse` and `grace panel analyse` through click's runner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.results import ForecastParams
from grace_cli import cli


@pytest.fixture(scope="module")
def monthly_csv(tmp_path_factory):
    """Five years of monthly referrals: trend, yearly season, a level drop in 2022 and a spike."""
    rng = np.random.default_rng(0)
    t = np.arange(60)
    y = 400 + 3 * t + 50 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 8, 60)
    y[36:] -= 150
    y[20] += 140
    path = tmp_path_factory.mktemp("cli") / "referrals.csv"
    pd.DataFrame(
        {"month": pd.date_range("2019-01-01", periods=60, freq="MS").strftime("%Y-%m"), "referrals": y.round()}
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory):
    """Three years of monthly counts for five platforms: one emerging, one vanishing, one big drop."""
    rng = np.random.default_rng(1)
    rows = []
    for i, month in enumerate(pd.date_range("2021-01-01", periods=36, freq="MS").strftime("%Y-%m-%d")):
        late = i >= 33
        counts = {
            "chat": 1000 + rng.normal(0, 30),
            "cloud": 400 + rng.normal(0, 20),
            "newapp": (60 + 15 * (i - 33)) if late else 2,
            "oldforum": 0 if late else 150 + rng.normal(0, 10),
            "social": 1500 if late else 5000 + rng.normal(0, 70),
        }
        rows += [(month, platform, max(0, round(v))) for platform, v in counts.items()]
    path = tmp_path_factory.mktemp("cli") / "platforms.csv"
    pd.DataFrame(rows, columns=["date", "platform", "referrals"]).to_csv(path, index=False)
    return path


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_series_analyse_prints_one_json_object_with_the_contract_keys(monthly_csv):
    result = run(
        "series", "analyse", monthly_csv, "--date-col", "month", "--value-col", "referrals", "--horizon", "6", "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert {"trend", "changepoints", "anomalies", "forecast", "model"} <= set(payload)
    assert payload["trend"]["direction"] in ("increasing", "decreasing", "no trend")
    assert {"slope", "p_value"} <= set(payload["trend"])
    assert [c["date"] for c in payload["changepoints"]] and all(
        abs((pd.Timestamp(c["date"]) - pd.Timestamp("2022-01-01")).days) <= 62 for c in payload["changepoints"]
    )
    assert "2020-09-01" in [a["date"] for a in payload["anomalies"]]
    assert len(payload["forecast"]) == 6 and payload["forecast"][0]["date"] == "2024-01-01"
    assert set(payload["forecast"][0]) == {"date", "yhat", "yhat_lower", "yhat_upper"}
    assert payload["model"]["name"] in ForecastParams().models
    assert payload["model"]["spec"] and payload["model"]["transform"] in ("none", "log", "mixed")
    assert {"mase", "coverage", "level", "calibrated_coverage", "calibration_factor"} <= set(
        payload["model"]["backtest"]
    )
    assert payload["model"]["interval"] == "calibrated" and payload["model"]["level"] == 0.8
    assert payload["series"]["freq"] == "M"  # inferred


def test_series_analyse_without_json_prints_a_readable_summary(monthly_csv):
    result = run("series", "analyse", monthly_csv, "--date-col", "month", "--value-col", "referrals", "--horizon", "3")
    assert result.exit_code == 0, result.output
    for words in (
        "trend",
        "change points",
        "anomalies",
        "backtest MASE",
        "calibrated on the backtest errors",
        "2024-03",
    ):
        assert words in result.output


def test_series_analyse_gives_the_same_output_twice(monthly_csv):
    args = (
        "series",
        "analyse",
        monthly_csv,
        "--date-col",
        "month",
        "--value-col",
        "referrals",
        "--horizon",
        "4",
        "--json",
    )
    assert run(*args).output == run(*args).output


def test_panel_analyse_lists_emerging_and_vanishing_entities(panel_csv):
    result = run(
        "panel",
        "analyse",
        panel_csv,
        "--date-col",
        "date",
        "--entity-col",
        "platform",
        "--value-col",
        "referrals",
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["emerging"] == ["newapp"]
    assert payload["vanishing"] == ["oldforum"]
    assert "social" in payload["dropping"] and "social" not in payload["vanishing"]
    entities = {e["entity"]: e for e in payload["entities"]}
    assert set(entities) == {"chat", "cloud", "newapp", "oldforum", "social"}
    assert {"trend", "growth", "changepoints", "status"} <= set(entities["chat"])
    assert entities["social"]["changepoints"][0]["direction"] == "down"


def test_panel_analyse_with_a_horizon_prints_reconciled_forecasts(panel_csv):
    result = run(
        "panel",
        "analyse",
        panel_csv,
        "--date-col",
        "date",
        "--entity-col",
        "platform",
        "--value-col",
        "referrals",
        "--horizon",
        "2",
        "--json",
    )
    assert result.exit_code == 0, result.output
    table = pd.DataFrame(json.loads(result.output)["forecast"])
    wide = table.pivot(index="date", columns="node", values="yhat")
    np.testing.assert_allclose(wide["total"], wide.drop(columns="total").sum(axis=1), rtol=1e-6)


def test_panel_analyse_without_json_is_readable(panel_csv):
    result = run(
        "panel", "analyse", panel_csv, "--date-col", "date", "--entity-col", "platform", "--value-col", "referrals"
    )
    assert result.exit_code == 0, result.output
    assert "emerging     newapp" in result.output and "vanishing    oldforum" in result.output


BAD_INPUTS = {
    "unparseable date": ("month,v\n2023-01,1\n2023-13,2\n", "row 2, field 'month': cannot parse date '2023-13'"),
    "duplicated date": (
        "month,v\n2023-01,1\n2023-02,2\n2023-01,3\n",
        "row 3, field 'month': duplicated date 2023-01-01",
    ),
    "non-numeric value": ("month,v\n2023-01,1\n2023-02,many\n", "row 2, field 'v': not a finite number: 'many'"),
    "too few points": ("month,v\n2023-01,1\n2023-02,2\n2023-03,3\n", "only 3 monthly point(s)"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_error_naming_the_problem(tmp_path, case):
    text, message = BAD_INPUTS[case]
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    result = run("series", "analyse", path, "--date-col", "month", "--value-col", "v", "--json")
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_missing_column_is_named(monthly_csv):
    result = run(
        "panel", "analyse", monthly_csv, "--date-col", "month", "--entity-col", "country", "--value-col", "referrals"
    )
    assert result.exit_code != 0
    assert "field 'country': column not found" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_horizon_longer_than_the_history_is_too_few_points(monthly_csv):
    result = run("series", "analyse", monthly_csv, "--date-col", "month", "--value-col", "referrals", "--horizon", "61")
    assert result.exit_code != 0 and "a 61-period forecast with a backtest needs at least 61" in result.output


def test_a_bad_option_is_one_line_too(monthly_csv):
    result = run(
        "series", "analyse", monthly_csv, "--date-col", "month", "--value-col", "referrals", "--models", "magic"
    )
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1 and "magic" in result.output


@pytest.mark.parametrize("group", ["series", "panel"])
def test_help_explains_the_output(group):
    result = run(group, "analyse", "--help")
    assert result.exit_code == 0
    for words in ("trend", "changepoints", "--json", "--freq"):
        assert words in result.output
