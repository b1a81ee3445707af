"""Short yearly panels (4-7 points, e.g. published statistics by platform 2019-2024): statuses from window
comparisons, the statistics that need more years skipped and named, and fewer than 4 points refused.
Synthetic counts only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.analyse import with_horizon
from analytics.panel import analyse_panel
from analytics.results import AnalysisParams
from analytics.series import TooFewPointsError, to_panel
from grace_cli import cli

YEARS = list(range(2019, 2025))
# Yearly counts by platform code, 2019-2024.
COUNTS = {
    "chat": [1000, 1040, 980, 1010, 1030, 990],  # stable
    "cloud": [600, 610, 590, 620, 600, 610],  # stable
    "newapp": [0, 0, 0, 30, 90, 400],  # appears in 2022 and accelerates: emerging
    "oldforum": [400, 420, 410, 390, 150, 0],  # shuts down in 2024: vanishing
    "social": [5000, 5200, 5100, 5000, 4900, 2400],  # a large platform halved, still large: dropping
}
EXPECTED = {"chat": "stable", "cloud": "stable", "newapp": "emerging", "oldforum": "vanishing", "social": "dropping"}


def long_table(first_year: int = 2019, counts: dict[str, list[int]] = COUNTS) -> pd.DataFrame:
    """One row per year and platform from `first_year` to 2024 (the last years of `counts`)."""
    keep = 2024 - first_year + 1
    rows = [
        (f"{year}-01-01", platform, values[-keep:][i])
        for platform, values in counts.items()
        for i, year in enumerate(range(first_year, 2025))
    ]
    return pd.DataFrame(rows, columns=["year", "platform", "referrals"]).astype(str)


def panel(first_year: int = 2019):
    return to_panel(long_table(first_year), "year", "platform", "referrals", source="platforms.csv")


def statuses(result) -> dict[str, str]:
    return {e.entity: e.status.status for e in result.entities}


def skipped(result) -> dict[str, str]:
    return {s.statistic: s.reason for s in result.skipped}


def write_csv(tmp_path, first_year: int = 2019):
    path = tmp_path / "platforms.csv"
    long_table(first_year).to_csv(path, index=False)
    return path


def run_panel(path, *extra):
    args = ["panel", "analyse", path, "--date-col", "year", "--entity-col", "platform", "--value-col", "referrals"]
    return CliRunner().invoke(cli, [str(a) for a in [*args, *extra]])


# --- Python API ---------------------------------------------------------------------------------------


def test_a_six_year_panel_finds_the_emerging_vanishing_and_dropping_platforms_and_keeps_the_stable_ones():
    result = analyse_panel(panel())
    assert result.freq == "Y" and result.n == 6
    assert statuses(result) == EXPECTED
    assert (result.emerging, result.vanishing, result.dropping, result.rising) == (
        ("newapp",),
        ("oldforum",),
        ("social",),
        (),
    )


def test_a_six_year_panel_names_the_statistics_it_skipped_and_why():
    result = analyse_panel(panel())  # the default parameters ask for a 12-period forecast
    reasons = skipped(result)
    assert set(reasons) == {"growth interval", "changepoints", "anomalies", "forecast"}
    assert all("at least" in reason and reason.endswith("the panel has 6") for reason in reasons.values())
    assert result.total_anomalies is None
    assert all(e.changepoints is None for e in result.entities)
    assert result.forecast is None


def test_a_six_year_panel_reports_growth_over_the_year_before_without_an_interval():
    social = next(e for e in analyse_panel(panel()).entities if e.entity == "social")
    growth = social.growth["year_on_year"]
    assert growth is not None and growth.growth == pytest.approx(2400 / 4900 - 1)
    assert growth.lower is None and growth.upper is None


def test_a_six_year_panel_reports_the_trend_test_with_its_p_value_and_says_it_is_weak():
    result = analyse_panel(panel())
    social = next(e for e in result.entities if e.entity == "social")
    assert social.trend is not None and social.trend.test == "Mann-Kendall" and 0 <= social.trend.p_value <= 1
    assert result.total_trend is not None
    assert any("little power" in note and "0.0085" in note for note in result.notes)


def test_a_four_year_panel_gives_the_same_statuses_and_skips_the_trend_test_that_cannot_reach_significance():
    result = analyse_panel(panel(first_year=2021))
    assert result.n == 4
    assert statuses(result) == EXPECTED
    reasons = skipped(result)
    assert {"trend", "growth interval", "changepoints", "anomalies", "forecast"} == set(reasons)
    assert "0.089" in reasons["trend"]
    assert result.total_trend is None and all(e.trend is None for e in result.entities)


def test_a_platforms_status_does_not_depend_on_how_many_earlier_years_the_panel_holds():
    longer = {name: [values[0]] * 4 + values for name, values in COUNTS.items()}  # 2015-2024
    ten_years = to_panel(long_table(2015, longer), "year", "platform", "referrals")
    assert ten_years.n == 10
    no_forecast = with_horizon(AnalysisParams(), 0)  # ten points are too few for the default 12-year forecast
    assert statuses(analyse_panel(ten_years, no_forecast)) == statuses(analyse_panel(panel())) == EXPECTED


def test_a_three_year_panel_is_refused_naming_the_series_and_the_minimum():
    with pytest.raises(TooFewPointsError) as error:
        analyse_panel(panel(first_year=2022))
    message = str(error.value)
    assert message.startswith("platforms.csv")
    assert "only 3 yearly point(s)" in message and "needs at least 4" in message


def test_a_short_monthly_panel_still_needs_eight_points():
    months = pd.DataFrame(
        [(f"2024-{m:02d}-01", p, 10 * m) for m in range(1, 7) for p in ("chat", "cloud")],
        columns=["month", "platform", "referrals"],
    ).astype(str)
    with pytest.raises(TooFewPointsError, match="needs at least 8"):
        analyse_panel(to_panel(months, "month", "platform", "referrals"))


def test_a_long_panel_skips_nothing():
    rng = np.random.default_rng(3)
    rows = [
        (month.strftime("%Y-%m-%d"), p, round(100 + rng.normal(0, 5)))
        for month in pd.date_range("2021-01-01", periods=24, freq="MS")
        for p in ("chat", "cloud")
    ]
    frame = pd.DataFrame(rows, columns=["month", "platform", "referrals"]).astype(str)
    result = analyse_panel(to_panel(frame, "month", "platform", "referrals"))
    assert result.skipped == ()
    assert result.total_anomalies is not None and all(e.changepoints is not None for e in result.entities)


# --- grace panel analyse ------------------------------------------------------------------------------


def test_panel_analyse_on_a_six_year_csv_lists_the_movers_and_the_skipped_statistics(tmp_path):
    result = run_panel(write_csv(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["series"]["n"] == 6 and payload["series"]["freq"] == "Y"
    assert (payload["emerging"], payload["vanishing"], payload["dropping"]) == (["newapp"], ["oldforum"], ["social"])
    assert {e["entity"]: e["status"]["status"] for e in payload["entities"]} == EXPECTED
    assert {s["statistic"] for s in payload["skipped"]} == {"growth interval", "changepoints", "anomalies"}
    assert all(set(s) == {"statistic", "reason"} and s["reason"] for s in payload["skipped"])
    assert payload["total"]["anomalies"] is None and all(e["changepoints"] is None for e in payload["entities"])


def test_panel_analyse_on_a_six_year_csv_with_a_horizon_skips_the_forecast_and_says_why(tmp_path):
    result = run_panel(write_csv(tmp_path), "--horizon", "2", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    reasons = {s["statistic"]: s["reason"] for s in payload["skipped"]}
    assert "backtest" in reasons["forecast"] and payload["forecast"] == []


def test_panel_analyse_on_a_six_year_csv_prints_the_movers_and_what_was_skipped(tmp_path):
    result = run_panel(write_csv(tmp_path))
    assert result.exit_code == 0, result.output
    assert "emerging     newapp" in result.output and "vanishing    oldforum" in result.output
    assert "dropping     social" in result.output
    assert "skipped      changepoints:" in result.output and "skipped      anomalies:" in result.output
    assert "little power" in result.output
    assert "per year, Mann-Kendall" in result.output and "per year (" not in result.output  # said once


def test_panel_analyse_on_a_four_year_csv_works_and_says_the_trend_test_was_skipped(tmp_path):
    result = run_panel(write_csv(tmp_path, first_year=2021))
    assert result.exit_code == 0, result.output
    assert "emerging     newapp" in result.output and "skipped      trend:" in result.output


def test_panel_analyse_on_a_three_year_csv_is_a_one_line_error_naming_the_file_and_the_minimum(tmp_path):
    path = write_csv(tmp_path, first_year=2022)
    result = run_panel(path)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert str(path) in result.output and "only 3 yearly point(s)" in result.output and "at least 4" in result.output
