"""Trend explorer callbacks as plain functions (series, compare, per capita, events, drill-down) and its page in the app."""

from __future__ import annotations

import json
import shutil

import dashboard_warehouse as synthetic
import pandas as pd
import pytest

from analytics.population import load_population
from analytics.warehouse_series import METRICS
from dashboards import ids
from dashboards.callbacks import trends
from dashboards.charts import get_chart
from dashboards.figures.trends import COMPARE_COLOUR, MAX_LINES, trend_figure
from dashboards.state import ViewState
from warehouse import WarehouseReader

COMPLETE_DAYS = 517  # 1 Jan 2023 - 31 May 2024: June 2024 is partial and dropped
CHAT_PER_DAY = sum(1 + c for c in range(1, 10))  # platform weight 1
PHOTO_PER_DAY = sum(1 + 2 * c for c in range(1, 10))  # platform weight 2
GROWTH = 5 * (31 + 30 + 31)  # Sweden, per platform, March to May 2024


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return synthetic.build(tmp_path_factory.mktemp("trends") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def analysed(warehouse, tmp_path_factory):
    path = tmp_path_factory.mktemp("trends_analysed") / "warehouse.duckdb"
    shutil.copy(warehouse, path)
    synthetic.add_analysis(path)
    return path


@pytest.fixture
def reader(warehouse):
    return WarehouseReader(warehouse)


def main_lines(figure):
    return [trace for trace in figure.data if str(trace.customdata[0]).startswith("entity:")]


# --- controls --------------------------------------------------------------------------------


def test_every_warehouse_metric_can_be_chosen():
    assert {option["value"] for option in trends.metric_options()} == set(METRICS)


def test_the_controls_offer_what_the_metric_supports():
    referrals = trends.control_options("referrals")
    assert [o["value"] for o in referrals.split_options][:3] == ["", "country", "platform"]
    assert referrals.filters_enabled == {"channel": True, "incident_type": True, "category": False, "annotation": True}
    assert "sextortion" in [o["value"] for o in referrals.annotation_options]
    assert referrals.per_capita_allowed
    files = trends.control_options("files")
    assert files.filters_enabled["category"] and not files.filters_enabled["channel"]
    assert not trends.control_options("actionable_share").per_capita_allowed


def test_filter_options_are_codes_from_the_warehouse(reader):
    options = trends.dimension_options(reader)
    assert [o["value"] for o in options["channel"]] == ["chat", "social"]
    assert "IT_CP" in [o["value"] for o in options["incident_type"]]
    assert "A1" in [o["value"] for o in options["category"]]


# --- series ----------------------------------------------------------------------------------


def test_the_default_view_is_monthly_referrals_for_all_complete_months(reader):
    data = trends.trend_data(reader, ViewState())
    frame = data.frame
    assert set(frame["entity"]) == {"total"} and frame["ds"].nunique() == 17
    assert frame["y"].sum() == COMPLETE_DAYS * (CHAT_PER_DAY + PHOTO_PER_DAY) + 2 * GROWTH
    assert data.count_columns == ("numerator",) and data.cell_columns == ("metric", "entity", "ds")
    assert get_chart("trends-explorer") is trends.TREND_CHART


def test_a_split_draws_one_line_per_entity_and_they_add_up_to_the_total(reader):
    total = trends.trend_data(reader, ViewState()).frame["y"].sum()
    data = trends.trend_data(reader, ViewState(split="platform"))
    by_platform = data.frame.groupby("entity")["y"].sum()
    assert by_platform.sum() == total
    figure = trends.trend_figure_for(data, ViewState(split="platform"))
    assert [trace.name for trace in main_lines(figure)] == ["PhotoShare", "ChatApp"]  # largest first
    assert figure.layout.legend.title.text == "Platform"


def test_a_page_filter_and_an_annotation_filter_select_their_rows(reader):
    social = trends.trend_data(reader, ViewState(channel=("social",))).frame["y"].sum()
    sextortion = trends.trend_data(reader, ViewState(annotation=("sextortion",))).frame["y"].sum()
    assert social == sextortion == COMPLETE_DAYS * PHOTO_PER_DAY + GROWTH


def test_the_period_and_grain_shape_the_series(reader):
    frame = trends.trend_data(reader, ViewState(grain="week", start="2024-03-01", end="2024-03-31")).frame
    assert frame["ds"].min() == pd.Timestamp("2024-02-26")  # the ISO week holding 1 March
    assert frame["ds"].max() <= pd.Timestamp("2024-03-31") and frame["ds"].nunique() == 5


def test_a_filter_the_metric_does_not_have_is_explained_not_raised(reader):
    view = trends.draw(reader, ViewState(metric="referrals", category=("A1",)))
    assert "cannot be filtered by category" in view.status
    assert "cannot be filtered by category" in view.figure.layout.annotations[0].text
    shares = trends.draw(reader, ViewState(metric="actionable_share", per_capita=True))
    assert "per-capita rates apply to counts only" in shares.status


def test_comparing_a_second_metric_draws_it_dashed_on_the_right_axis(reader):
    state = ViewState(compare="files", log=True)
    data = trends.trend_data(reader, state)
    assert set(data.frame["metric"]) == {"referrals", "files"}
    figure = trends.trend_figure_for(data, state)
    compared = next(trace for trace in figure.data if trace.yaxis == "y2")
    assert compared.line.dash == "dash" and compared.line.color == COMPARE_COLOUR
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis2.type == "log"
    assert "compared with files (right axis)" in data.subtitle and "log scale" in data.subtitle


def test_per_capita_divides_by_the_sourced_population(reader):
    population = load_population().set_index("country_iso3")["population"]
    counts = trends.trend_data(reader, ViewState(country=("DEU",))).frame
    rates = trends.trend_data(reader, ViewState(country=("DEU",), per_capita=True)).frame
    expected = counts["y"].to_numpy() / population["DEU"] * 100_000
    assert rates["y"].to_numpy() == pytest.approx(expected)
    figure = trends.trend_figure_for(
        trends.trend_data(reader, ViewState(country=("DEU",), per_capita=True)),
        ViewState(country=("DEU",), per_capita=True),
    )
    assert figure.layout.title.text.endswith("per 100,000 inhabitants")


def test_more_entities_than_colours_keep_the_largest_and_say_so(reader):
    data = trends.trend_data(reader, ViewState(split="country"))
    figure = trends.trend_figure_for(data, ViewState(split="country"))
    assert len(main_lines(figure)) == MAX_LINES
    assert "AUT" not in [trace.name for trace in main_lines(figure)]  # the smallest country
    assert f"The {MAX_LINES} largest of 9 country values are drawn." in data.note


# --- change points and anomalies -------------------------------------------------------------


def test_without_an_analysis_there_is_nothing_to_annotate(reader):
    data = trends.trend_data(reader, ViewState())
    assert data.extras.events.empty
    assert not trends.trend_figure_for(data, ViewState()).layout.shapes


def test_the_eu_total_shows_its_change_point_and_anomaly(analysed):
    data = trends.trend_data(WarehouseReader(analysed), ViewState())
    figure = trends.trend_figure_for(data, ViewState())
    assert [shape.xanchor for shape in figure.layout.shapes] == ["2024-03-01"]
    anomaly = next(trace for trace in figure.data if trace.name == "Anomaly")
    assert list(anomaly.x) == ["2023-07-01"] and anomaly.marker.symbol == "x"
    assert "1 change point(s) (dashed lines) and 1 anomaly(ies)" in data.note


def test_one_country_shows_that_countrys_stored_change_point(analysed):
    state = ViewState(country=("SWE",))
    figure = trends.trend_figure_for(trends.trend_data(WarehouseReader(analysed), state), state)
    assert [shape.xanchor for shape in figure.layout.shapes] == ["2024-03-01"]
    assert "+26 %" in figure.layout.annotations[0].text


def test_filtered_views_were_not_analysed_and_say_so(analysed):
    state = ViewState(channel=("chat",))
    data = trends.trend_data(WarehouseReader(analysed), state)
    assert data.extras.events.empty
    assert "stored for the EU total and per country / platform only" in data.note
    assert trends.analysed_series(ViewState(split="country")) == ("country", None)
    assert trends.analysed_series(ViewState(split="country", platform=("ChatApp",))) is None


# --- drill-down ------------------------------------------------------------------------------


def click(x: str, custom: str) -> dict:
    return {"points": [{"x": x, "y": 1, "customdata": custom}]}


def test_clicking_an_entity_line_filters_to_it_and_removes_the_split():
    state = ViewState(split="platform", country=("DEU",))
    target = trends.drill_down(state, click("2024-01-01", "entity:ChatApp"))
    assert target.platform == ("ChatApp",) and target.split is None and target.country == ("DEU",)
    channel = trends.drill_down(ViewState(split="channel"), click("2024-01-01", "entity:social"))
    assert channel.channel == ("social",)


def test_clicking_a_point_of_an_unsplit_chart_zooms_into_that_period():
    month = trends.drill_down(ViewState(), click("2024-02-01", "entity:total"))
    assert (month.grain, month.start, month.end) == ("week", "2024-02-01", "2024-02-29")
    year = trends.drill_down(ViewState(grain="year"), click("2023-01-01", "entity:total"))
    assert (year.grain, year.start, year.end) == ("quarter", "2023-01-01", "2023-12-31")
    assert trends.drill_down(ViewState(grain="day"), click("2024-02-01", "entity:total")) is None


def test_clicks_on_the_compared_metric_or_markers_do_nothing():
    assert trends.drill_down(ViewState(), click("2024-02-01", "compare")) is None
    assert trends.drill_down(ViewState(), click("2024-02-01", "event")) is None
    assert trends.drill_down(ViewState(), None) is None


def test_the_figure_builder_names_missing_columns_and_handles_no_data():
    with pytest.raises(ValueError, match="entity"):
        trend_figure(pd.DataFrame({"ds": [], "y": []}), "Referrals")
    empty = trend_figure(pd.DataFrame({"ds": [], "y": [], "entity": []}), "Referrals")
    assert "No data" in empty.layout.annotations[0].text


# --- the page in the app ---------------------------------------------------------------------


def routed(client, pathname: str, search: str) -> str:
    """The page layout Dash's router returns for a URL, as JSON text."""
    response = client.post(
        "/_dash-update-component",
        json={
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {"id": "_pages_location", "property": "search", "value": search},
            ],
            "changedPropIds": ["_pages_location.pathname"],
            "state": [],
        },
    )
    assert response.status_code == 200, response.data[:300]
    return json.dumps(response.get_json())


def component(layout_json: str, component_id: str) -> dict:
    """The props of the component with `component_id` in a routed layout."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == component_id:
                found.append(node["props"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(layout_json))
    assert found, f"no component {component_id}"
    return found[0]


def test_loading_a_shared_link_restores_every_control(warehouse):
    from dashboards.app_factory import create_app
    from dashboards.auth.testing import signed_in_client

    app = create_app(warehouse)
    client = signed_in_client(app, "analyst-two", "analyst")
    search = (
        "?metric=files&compare=referrals&grain=week&split=platform&log=1&per_capita=1&country=DEU"
        "&category=A1&start=2024-01-01&end=2024-03-31"
    )
    layout = routed(client, "/trends", search)
    assert component(layout, ids.TRENDS_METRIC)["value"] == "files"
    assert component(layout, ids.TRENDS_COMPARE)["value"] == "referrals"
    assert component(layout, ids.TRENDS_GRAIN)["value"] == "week"
    assert component(layout, ids.TRENDS_SPLIT)["value"] == "platform"
    assert component(layout, ids.TRENDS_LOG)["value"] is True
    assert component(layout, ids.TRENDS_PER_CAPITA)["value"] is True
    assert component(layout, ids.TRENDS_CATEGORY)["value"] == ["A1"]
    assert component(layout, ids.filter_control("trends", "country"))["value"] == ["DEU"]
    period = component(layout, ids.filter_control("trends", "period"))
    assert (period["start_date"], period["end_date"]) == ("2024-01-01", "2024-03-31")
    assert component(layout, ids.TRENDS_STATE)["data"] == ViewState.from_query(search).to_query()
    assert "This link cannot be shown" in routed(client, "/trends", "?grain=fortnight")


def test_on_a_log_scale_empty_periods_are_gaps_and_ticks_are_powers_of_ten():
    frame = pd.DataFrame(
        {"ds": pd.date_range("2024-01-01", periods=3, freq="MS"), "y": [10.0, 0.0, 100.0], "entity": "total"}
    )
    figure = trend_figure(frame, "Referrals", log=True)
    assert list(figure.data[0].y) == [10.0, None, 100.0]
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.dtick == 1
    assert list(trend_figure(frame, "Referrals").data[0].y) == [10.0, 0.0, 100.0]


def test_long_daily_lines_are_drawn_with_fewer_points_but_every_extreme_and_a_note_saying_so():
    import numpy as np

    from dashboards.figures.downsample import MAX_POINTS_PER_LINE

    days = pd.date_range("2019-01-01", "2025-12-31", freq="D")
    rng = np.random.default_rng(5)
    frame = pd.concat(
        [
            pd.DataFrame({"ds": days, "y": rng.poisson(40, len(days)).astype(float), "entity": entity})
            for entity in ("DEU", "MLT")
        ]
    )
    frame.loc[(frame["entity"] == "MLT") & (frame["ds"] == "2023-05-17"), "y"] = 900.0  # one spike
    figure = trend_figure(frame, "Referrals", grain="day", entities=["DEU", "MLT"])
    for trace, entity in zip(figure.data, ("DEU", "MLT"), strict=True):
        full = frame[frame["entity"] == entity]
        assert len(trace.x) <= MAX_POINTS_PER_LINE + 2 < len(full)
        assert max(trace.y) == full["y"].max() and min(trace.y) == full["y"].min()
        assert (trace.x[0], trace.x[-1]) == ("2019-01-01", "2025-12-31")
        assert list(trace.x) == sorted(trace.x)
    assert "2023-05-17" in figure.data[1].x
    notes = [a.text for a in figure.layout.annotations if a.text.startswith("Drawn at")]
    drawn = len(figure.data[0].x) + len(figure.data[1].x)
    assert notes == [
        f"Drawn at {drawn:,} of {2 * len(days):,} points (each stretch's minimum and maximum kept; CSV has all)"
    ]


def test_monthly_lines_are_drawn_with_every_point_and_no_note():
    months = pd.date_range("2019-01-01", periods=84, freq="MS")
    frame = pd.DataFrame({"ds": months, "y": range(84), "entity": "total"})
    figure = trend_figure(frame, "Referrals")
    assert len(figure.data[0].x) == 84
    assert not [a for a in figure.layout.annotations if (a.text or "").startswith("Drawn at")]
