"""Forecasts page callbacks as plain functions on a small real warehouse analysed by `grace analyse`'s
`run_analysis` (referrals, monthly and weekly, EU total and countries), its figures, and its page in the app."""

from __future__ import annotations

import shutil

import dashboard_warehouse as synthetic
import numpy as np
import pandas as pd
import pytest
from test_dashboard_trends import component, routed

from analytics.results import ForecastParams
from analytics.warehouse_series import load_series
from dashboards import ids
from dashboards.callbacks import forecasts
from dashboards.figures.forecasts import backlog_figure, forecast_figure
from dashboards.state import ViewState
from grace.scope import Scope
from warehouse import WarehouseReader, connect


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """The synthetic dashboard warehouse without any analysis run."""
    return synthetic.build(tmp_path_factory.mktemp("forecasts_plain") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def analysed(plain, tmp_path_factory):
    """The same warehouse after one real `run_analysis` (referrals; month and week; total and countries)."""
    from analytics.warehouse_run import run_analysis

    path = tmp_path_factory.mktemp("forecasts_analysed") / "warehouse.duckdb"
    shutil.copy(plain, path)
    run_analysis(path, metrics=["referrals"], grains=["month", "week"], splits=(None, "country"))
    return path


@pytest.fixture
def reader(analysed):
    return WarehouseReader(analysed)


def stored(path, series_id: str) -> pd.DataFrame:
    con = connect(path, read_only=True)
    try:
        return con.execute("SELECT * FROM analytics_forecast WHERE series_id = ? ORDER BY date", [series_id]).df()
    finally:
        con.close()


# --- which series ----------------------------------------------------------------------------


def test_the_filters_choose_the_eu_total_one_country_or_one_platform():
    assert forecasts.series_choice(ViewState()).series_id == "referrals|month|none|total"
    assert forecasts.series_choice(ViewState(country=("SWE",), grain="week")).series_id == "referrals|week|country|SWE"
    assert (
        forecasts.series_choice(ViewState(platform=("ChatApp",), metric="files")).series_id
        == "files|month|platform|ChatApp"
    )
    with pytest.raises(forecasts.ForecastRequestError, match="at most one country or one platform"):
        forecasts.series_choice(ViewState(country=("DEU", "FRA")))


def test_the_pickers_offer_only_what_the_latest_run_forecast(reader, plain):
    found = forecasts.options(reader, ViewState())
    assert [o["value"] for o in found.metric_options] == ["referrals"]
    assert [o["value"] for o in found.grain_options] == ["week", "month"]
    assert found.message == ""
    assert forecasts.options(WarehouseReader(plain), ViewState()).message == forecasts.NO_RUN_HINT


# --- the forecast ----------------------------------------------------------------------------


def test_the_chart_shows_the_history_then_the_stored_forecast_with_its_interval(reader, analysed):
    data = forecasts.forecast_data(reader, ViewState())
    frame = data.frame
    con = connect(analysed, read_only=True)
    history = load_series(con, "referrals", "month")
    con.close()
    past = frame[frame["actual"].notna()]
    assert past["actual"].tolist() == history["y"].tolist()
    rows = stored(analysed, "referrals|month|none|total")
    future = frame[frame["forecast"].notna()]
    assert len(future) == 12 and future["forecast"].tolist() == pytest.approx(rows["yhat"].tolist())
    assert (future["forecast_lower"] <= future["forecast"]).all() and (
        future["forecast"] <= future["forecast_upper"]
    ).all()
    assert future["date"].min() > past["date"].max()
    view = forecasts.draw_forecast(reader, ViewState())
    names = [trace.name for trace in view.figure.data]
    assert names[0] == "Observed" and "80% prediction interval" in names and "Reconciled forecast" in names
    assert any(name.startswith("Forecast (") for name in names)
    assert view.status == "" and "12 months ahead" in view.subtitle and "Latest analysis" in view.run


def test_why_the_model_was_chosen_quotes_its_stored_backtest_numbers(reader, analysed):
    row = stored(analysed, "referrals|month|country|SWE").iloc[0]
    view = forecasts.draw_forecast(reader, ViewState(country=("SWE",)))
    assert view.model.startswith(f"{forecasts.model_label(row['model'])} was chosen")
    assert f"MASE {row['backtest_mase']:.2f}" in view.model
    assert f"The model's own 80% intervals held {row['backtest_coverage']:.0%} of the backtest actuals" in view.model
    assert f"width × {row['calibration_factor']:.2f}" in view.model
    assert f"it held {row['backtest_calibrated_coverage']:.0%} of the actuals of the later ones" in view.model


def test_every_candidate_model_comes_from_the_run_with_the_stored_choice_first(reader, analysed):
    for state in (ViewState(), ViewState(country=("SWE",))):
        row = stored(analysed, forecasts.series_choice(state).series_id).iloc[0]
        view = forecasts.candidate_scores(reader, state)
        # the cost rules decide which of the default candidates a series gets (analytics.forecast)
        assert {"seasonal_naive", "drift"} <= {r["model"] for r in view.rows} <= set(ForecastParams().models)
        best = view.rows[0]
        assert best["chosen"] and best["model"] == row["model"]
        assert best["mase"] == pytest.approx(row["backtest_mase"], rel=1e-9)
        assert best["coverage"] == pytest.approx(row["backtest_coverage"])
        assert best["calibrated_coverage"] == pytest.approx(row["backtest_calibrated_coverage"])
        assert [r["mase"] for r in view.rows] == sorted(r["mase"] for r in view.rows)
        assert "as stored by the run" in view.note
    # weekly Sweden is flat before its growth: MASE has no scale (infinite), the lowest MAE decides
    weekly = forecasts.candidate_scores(reader, ViewState(country=("SWE",), grain="week"))
    chosen = [r for r in weekly.rows if r["chosen"]]
    assert chosen[0]["model"] == stored(analysed, "referrals|week|country|SWE")["model"].iloc[0]


def test_a_run_without_stored_candidates_says_so_instead_of_repeating_backtests(analysed, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(analysed, path)
    con = connect(path)
    con.execute("DELETE FROM analytics_forecast_candidate")
    con.close()
    view = forecasts.candidate_scores(WarehouseReader(path), ViewState())
    assert view.rows == [] and "No candidate backtests are stored" in view.note


def test_the_explanation_says_when_the_interval_was_too_narrow():
    frame = pd.DataFrame({"model": ["ets"], "backtest_mase": [0.8], "backtest_coverage": [0.55], "level": [0.8]})
    candidates = pd.DataFrame({"model": ["ets", "drift"], "mase": [0.8, 1.3], "chosen": [True, False]})
    text = forecasts.why_text(frame, candidates)
    assert "ETS (exponential smoothing) was chosen" in text
    assert "of 2 candidates (Drift (random walk with drift) 1.30)" in text
    assert "held 55% of the backtest actuals — too narrow" in text
    flat = forecasts.why_text(frame.assign(backtest_mase=[np.inf]))
    assert "MASE is undefined" in flat and "lowest mean absolute error decides" in flat


def test_the_explanation_names_the_transform_and_what_the_backtest_said_about_it():
    frame = pd.DataFrame({"model": ["ets_log"], "backtest_mase": [0.6], "backtest_coverage": [0.8], "level": [0.8]})
    candidates = pd.DataFrame({"model": ["ets_log", "ets"], "mase": [0.6, 0.9], "chosen": [True, False]})
    text = forecasts.why_text(frame, candidates)
    assert "ETS on the log scale was chosen" in text
    assert "fitted to log(y + 1)" in text and "on the original scale the same model scored MASE 0.90" in text
    kept = forecasts.why_text(frame.assign(model=["ets"], backtest_mase=[0.9]), candidates.assign(chosen=[False, True]))
    assert "fitted on the original scale; on log(y + 1) the same model scored MASE 0.60" in kept
    combo = forecasts.why_text(
        frame.assign(model=["combo"]),
        pd.DataFrame({"model": ["combo", "ets", "theta"], "mase": [0.6, 0.7, 0.8], "chosen": [True, False, False]}),
    )
    assert "means of those of ETS (exponential smoothing), Theta" in combo


def test_the_explanation_judges_the_calibrated_band_by_its_coverage_on_later_folds():
    frame = pd.DataFrame(
        {
            "model": ["ets"],
            "backtest_mase": [0.8],
            "backtest_coverage": [0.47],
            "backtest_calibrated_coverage": [0.78],
            "calibration_factor": [2.5],
            "level": [0.8],
        }
    )
    text = forecasts.why_text(frame)
    assert "The model's own 80% intervals held 47% of the backtest actuals." in text
    assert "calibrated on the backtest errors (the model's width × 2.50" in text
    assert "it held 78% of the actuals of the later ones — close to nominal." in text
    unmeasured = forecasts.why_text(frame.assign(backtest_calibrated_coverage=[None]))
    assert "too few folds to measure it" in unmeasured and "close to nominal" not in unmeasured


def test_a_series_the_run_did_not_forecast_says_how_to_get_one(reader):
    view = forecasts.draw_forecast(reader, ViewState(platform=("ChatApp",)))
    assert "stored no forecast" in view.status and "grace analyse --metrics referrals --grain month" in view.status
    assert forecasts.candidate_scores(reader, ViewState(platform=("ChatApp",))).rows == []


def test_without_an_analysis_run_the_page_says_to_run_grace_analyse(plain):
    view = forecasts.draw_forecast(WarehouseReader(plain), ViewState())
    assert view.status == forecasts.NO_RUN_HINT and "grace analyse" in view.status
    assert forecasts.draw_backlog(WarehouseReader(plain), ViewState()).summary.startswith("No backlog projection")


def test_two_countries_give_a_message_instead_of_an_error(reader):
    view = forecasts.draw_forecast(reader, ViewState(country=("DEU", "FRA")))
    assert "at most one country" in view.status and len(view.figure.data) == 0


# --- backlog ---------------------------------------------------------------------------------


def stored_backlog(path, grain="month") -> pd.DataFrame:
    con = connect(path, read_only=True)
    try:
        return con.execute("SELECT * FROM analytics_backlog WHERE grain = ? ORDER BY date", [grain]).df()
    finally:
        con.close()


def test_at_the_default_capacity_the_projection_reproduces_the_stored_one(reader, analysed):
    rows = stored_backlog(analysed)
    data = forecasts.backlog_data(reader, ViewState())
    assert len(data.frame) == len(rows) == 12
    for column in ("arrivals", "capacity", "backlog", "backlog_lower", "backlog_upper", "p_growing"):
        assert data.frame[column].to_numpy() == pytest.approx(rows[column].to_numpy()), column


def test_less_capacity_means_a_larger_backlog_in_every_period(reader, analysed):
    most = forecasts.backlog_defaults(reader, ViewState()).maximum
    low = forecasts.backlog_data(reader, ViewState(capacity=1)).frame
    high = forecasts.backlog_data(reader, ViewState(capacity=most)).frame
    assert (low["backlog"].to_numpy() >= high["backlog"].to_numpy()).all()
    assert low["backlog"].iloc[-1] > high["backlog"].iloc[-1]
    assert high["p_growing"].iloc[-1] < low["p_growing"].iloc[-1]
    view = forecasts.draw_backlog(reader, ViewState(capacity=most))
    assert f"capacity {most:,.1f} referrals triaged per day" in view.subtitle
    assert view.summary.startswith("By ") and "probability that it ends higher than now" in view.summary


def test_the_slider_runs_from_one_to_about_three_times_the_larger_of_capacity_and_arrivals(reader, analysed):
    rows = stored_backlog(analysed)
    found = forecasts.backlog_defaults(reader, ViewState())
    assert found.default == max(1, round(rows["capacity_per_day"].iloc[0]))
    assert found.minimum == 1 and found.maximum >= 3 * rows["capacity_per_day"].iloc[0]
    assert "recent rate" in found.marks[found.default]["label"]
    assert forecasts.capacity_for_state(found.default, found.default) is None  # the default stays out of the URL
    assert forecasts.capacity_for_state(found.default + 3, found.default) == found.default + 3


def test_a_user_limited_to_some_countries_sees_no_eu_backlog(reader):
    view = forecasts.draw_backlog(reader, ViewState().within(Scope.of_countries(["POL"])))
    assert view.summary == forecasts.SCOPED_BACKLOG and len(view.figure.data) == 0
    assert forecasts.backlog_defaults(reader, ViewState().within(Scope.of_countries(["POL"]))).default is None


# --- figures ---------------------------------------------------------------------------------


def test_the_forecast_band_is_filled_between_its_bounds_and_the_forecast_is_dashed():
    dates = pd.date_range("2024-01-01", periods=5, freq="MS")
    frame = pd.DataFrame(
        {
            "date": dates,
            "actual": [10, 12, 11, np.nan, np.nan],
            "forecast": [np.nan, np.nan, np.nan, 13.0, 14.0],
            "forecast_lower": [np.nan] * 3 + [9.0, 8.0],
            "forecast_upper": [np.nan] * 3 + [17.0, 20.0],
            "reconciled": [np.nan] * 5,
            "reconciled_lower": [np.nan] * 5,
            "reconciled_upper": [np.nan] * 5,
        }
    )
    figure = forecast_figure(frame, "Referrals", level=0.8, model="ETS")
    band = [t for t in figure.data if t.fill == "tonexty"]
    assert len(band) == 1 and list(band[0].y) == [9.0, 8.0]
    line = next(t for t in figure.data if (t.name or "").startswith("Forecast ("))
    assert line.line.dash == "dash" and list(line.y) == [13.0, 14.0]
    assert "Reconciled forecast" not in [t.name for t in figure.data]
    with pytest.raises(ValueError, match="lacks column"):
        backlog_figure(frame, "Backlog")


# --- the page in the app ---------------------------------------------------------------------


def test_a_shared_link_restores_the_series_and_the_capacity(analysed):
    from dashboards.app_factory import create_app
    from dashboards.auth.testing import signed_in_client

    app = create_app(analysed)
    client = signed_in_client(app, "forecast-analyst", "analyst")
    layout = routed(client, "/forecasts", "?grain=week&country=SWE&capacity=40")
    assert component(layout, ids.FORECASTS_GRAIN)["value"] == "week"
    assert component(layout, ids.FORECASTS_CAPACITY)["value"] == 40
    assert component(layout, ids.filter_control("forecasts", "country"))["value"] == ["SWE"]
    assert component(layout, ids.FORECASTS_STATE)["data"] == "?country=SWE&grain=week&capacity=40"
    assert "This link cannot be shown" in routed(client, "/forecasts", "?capacity=-3")
