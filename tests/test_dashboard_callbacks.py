"""Shell, kit and Overview callbacks as plain functions, the app wiring, and serving — on real DuckDB warehouses."""

from __future__ import annotations

import json
import shutil

import dashboard_warehouse as synthetic
import pandas as pd
import plotly.graph_objects as go
import pytest
from click.testing import CliRunner
from dash import html
from plotly.utils import PlotlyJSONEncoder

from dashboards import ids
from dashboards.callbacks import overview
from dashboards.charts import get_chart
from dashboards.components import filter_bar, kpi_card, page_visible
from dashboards.figures import MAX_SERIES, OKABE_ITO, monthly_referrals_figure, sparkline_figure
from dashboards.formatting import format_change
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import apply_controls, filter_options, nav_targets, state_from_filters
from grace.errors import ConfigError, WarehouseError
from grace.progress import LineProgress
from grace.settings import demo_scale
from grace_cli.server import choose_warehouse, ensure_warehouse, url_for
from warehouse import WarehouseReader

DAYS = 532  # 1 Jan 2023 - 15 Jun 2024
WEIGHTS = range(1, len(synthetic.COUNTRIES) + 1)
BASE_REFERRALS_PER_DAY = sum(1 + c * p for c in WEIGHTS for p in (1, 2))
GROWTH_DAYS = 107  # 1 Mar - 15 Jun 2024
TOTAL_REFERRALS = DAYS * BASE_REFERRALS_PER_DAY + GROWTH_DAYS * synthetic.GROWTH_PER_DAY * len(synthetic.PLATFORMS)
TOTAL_FILES = DAYS * sum(2 * c * 2 for c in WEIGHTS)  # both platforms


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The synthetic warehouse of `dashboard_warehouse` (shared by the module: tests only read it)."""
    return synthetic.build(tmp_path_factory.mktemp("overview") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def analysed(warehouse, tmp_path_factory):
    """The same warehouse after an analytics run (change points, an anomaly, findings)."""
    path = tmp_path_factory.mktemp("overview_analysed") / "warehouse.duckdb"
    shutil.copy(warehouse, path)
    synthetic.add_analysis(path)
    return path


@pytest.fixture
def reader(warehouse):
    return WarehouseReader(warehouse)


def plotted_total(figure: go.Figure) -> int:
    """Sum of the plotted values, ignoring the dotted links (they repeat a point)."""
    return int(sum(sum(trace.y) for trace in figure.data if trace.hoverinfo != "skip"))


def legend_names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data if trace.showlegend is not False]


def number(text: str) -> int:
    return int(text.replace(",", ""))


# --- the kit ---------------------------------------------------------------------------------


def test_nav_links_carry_only_the_global_filters_and_mark_the_active_page():
    hrefs, active = nav_targets(
        ["/", "/trends", "/alerts"], "/trends", "?country=DEU&metric=files&start=2024-01-01&split=platform"
    )
    assert hrefs == [
        "/?country=DEU&start=2024-01-01",
        "/trends?country=DEU&start=2024-01-01",
        "/alerts?country=DEU&start=2024-01-01",
    ]
    assert active == [False, True, False]


def test_an_invalid_query_string_gives_plain_nav_links_instead_of_an_error():
    hrefs, active = nav_targets(["/", "/trends"], "/", "?country=Germany")
    assert hrefs == ["/", "/trends"] and active == [True, False]


def test_pages_with_roles_are_listed_only_for_those_roles():
    admin_page = {"path": "/admin", "name": "Admin", "roles": ("admin",)}
    assert page_visible(admin_page, "admin")
    assert not page_visible(admin_page, "analyst") and not page_visible(admin_page, None)
    assert page_visible({"path": "/", "name": "Overview"}, None)


def test_the_filter_bar_starts_from_the_view_state():
    bar = filter_bar("overview", ViewState(country=("DEU", "FRA"), start="2024-01-01"))
    dropdown = bar.children[0].children[1]
    period = bar.children[2].children[1]
    assert dropdown.id == ids.OVERVIEW_COUNTRY_FILTER and dropdown.value == ["DEU", "FRA"]
    assert [o["value"] for o in dropdown.options] == ["DEU", "FRA"]  # shown before the real options load
    assert period.start_date == "2024-01-01" and period.end_date is None


def test_controls_become_a_validated_state_and_bad_values_are_refused():
    state = apply_controls(
        ViewState(country=("DEU",)),
        {"metric": "files", "log": [True], "split": "", "per_capita": False, "channel": ["chat"]},
    )
    assert state.to_query() == "?country=DEU&channel=chat&metric=files&log=1"
    with pytest.raises(ViewStateError, match="grain"):
        apply_controls(ViewState(), {"grain": "fortnight"})
    swapped = state_from_filters(ViewState(), ["FRA"], None, "2024-05-01T00:00:00", "2024-02-01")
    assert (swapped.start, swapped.end, swapped.country) == ("2024-02-01", "2024-05-01", ("FRA",))


def test_change_badges_say_the_direction_in_words_not_only_colour():
    assert format_change(110, 100) == ("▲ +10.0 % vs previous", "up")
    assert format_change(90, 100) == ("▼ -10.0 % vs previous", "down")
    assert format_change(5, 0) == ("new since previous period", "up")
    assert format_change(None, 100)[1] == "none"


def test_a_kpi_card_has_its_value_change_sparkline_and_note_ids():
    card = json.dumps(kpi_card("k", "Label"), cls=PlotlyJSONEncoder)
    for element in (ids.kpi_value("k"), ids.kpi_change("k"), ids.kpi_sparkline("k"), ids.kpi_note("k")):
        assert f'"{element}"' in card


def test_filter_options_name_the_countries_and_say_how_fresh_the_data_is(reader):
    options = filter_options(reader)
    assert options.country_options[0] == {"label": "Austria", "value": "AUT"}
    assert [o["value"] for o in options.country_options] == [
        "AUT",
        "BEL",
        "FRA",
        "DEU",
        "ITA",
        "NLD",
        "POL",
        "ESP",
        "SWE",
    ]  # sorted by name
    assert options.platform_options == [{"label": name, "value": name} for name in synthetic.PLATFORMS]
    assert options.freshness == (
        "Incidents up to 15 Jun 2024 · last ETL batch finished 16 Jun 2024 01:02 UTC (1 batch loaded)."
    )


# --- KPI cards -------------------------------------------------------------------------------


def test_without_filters_the_kpis_show_warehouse_totals_with_thousands_separators(reader):
    state = overview.update_kpis(reader, ViewState())
    assert state.referrals.value == f"{TOTAL_REFERRALS:,}"
    assert state.files.value == f"{TOTAL_FILES:,}"
    assert state.media_clusters.value == f"{DAYS * 18:,}"  # one new cluster per rollup row
    assert state.quarantined.value == f"{sum(synthetic.QUARANTINED):,}"
    assert state.scope == "Showing all countries, all platforms."
    assert state.status == ""


def test_the_kpi_change_compares_the_latest_complete_month_with_the_one_before(reader):
    state = overview.update_kpis(reader, ViewState(country=("AUT",)))
    may, april = 31 * (2 + 3), 30 * (2 + 3)  # Austria: 1+1 and 1+2 referrals a day; June is partial
    expected = (may - april) / april * 100
    assert state.referrals.change == f"▲ {expected:+.1f} % May 2024 vs Apr 2024"
    assert state.referrals.change_class == "kpi-change kpi-change--up"
    spark = state.referrals.sparkline
    assert list(spark.data[0].y)[-1] == 15 * 5  # 1-15 June
    assert len(spark.data[0].y) == 18  # every month of the data (fewer than 24)


def test_choosing_a_period_narrows_the_kpis(reader):
    whole = overview.update_kpis(reader, ViewState(country=("AUT",)))
    march = overview.update_kpis(reader, ViewState(country=("AUT",), start="2024-03-01", end="2024-03-31"))
    assert number(march.referrals.value) == 31 * 5 < number(whole.referrals.value)
    assert march.referrals.change == "no previous period"  # a single month: nothing to compare
    assert march.scope == "Showing 1 country, all platforms, 2024-03-01 to 2024-03-31."


def test_quarantine_is_never_filtered_by_country(reader):
    everything = overview.update_kpis(reader, ViewState())
    austria = overview.update_kpis(reader, ViewState(country=("AUT",)))
    assert austria.quarantined.value == everything.quarantined.value
    assert austria.media_clusters.note == "first seen in this selection"


def test_an_unreadable_warehouse_gives_a_message_instead_of_an_error(tmp_path):
    missing = WarehouseReader(tmp_path / "gone.duckdb")
    state = overview.update_kpis(missing, ViewState(country=("AUT",)))
    assert state.status.startswith("Warehouse unavailable:") and "does not exist" in state.status
    assert state.referrals.value == "–"
    assert filter_options(missing).country_options == []
    figure, _subtitle, note = overview.draw_monthly(missing, ViewState())
    assert "cannot be read" in figure.layout.annotations[0].text and note.startswith("Warehouse unavailable")


# --- the monthly chart -----------------------------------------------------------------------


def test_the_monthly_chart_is_registered_and_rebuilds_from_a_view_state(reader):
    chart = get_chart("overview-monthly-referrals")
    assert chart is overview.MONTHLY_CHART and chart.page == "/"
    data = chart.data(reader, ViewState())
    assert int(data.frame["referrals"].sum()) == TOTAL_REFERRALS
    assert data.count_columns == ("referrals",) and data.cell_columns == ("month", "series_key")
    assert plotted_total(chart.figure(data, ViewState())) == TOTAL_REFERRALS


def test_choosing_a_country_changes_the_figure(reader):
    everything, _, _ = overview.draw_monthly(reader, ViewState())
    austria, subtitle, _ = overview.draw_monthly(reader, ViewState(country=("AUT",)))
    assert plotted_total(austria) < plotted_total(everything)
    assert austria.layout.title.text == "Referrals per month, Austria"
    assert "all platforms" in subtitle


def test_a_few_countries_get_one_line_each_in_distinct_colours(reader):
    figure, _, _ = overview.draw_monthly(reader, ViewState(country=("BEL", "AUT")))
    assert legend_names(figure) == ["Austria", "Belgium"]
    colours = {trace.line.color for trace in figure.data if trace.showlegend is not False}
    assert colours == set(OKABE_ITO[:2])


def test_more_countries_than_colours_are_combined_into_one_line(reader):
    data = overview.monthly_data(reader, ViewState(country=synthetic.COUNTRIES))
    figure = overview.monthly_figure(data, ViewState(country=synthetic.COUNTRIES))
    assert len(synthetic.COUNTRIES) > MAX_SERIES
    assert legend_names(figure) == ["Selection"]
    assert "combined" in data.note


def test_the_period_limits_the_months_drawn(reader):
    data = overview.monthly_data(reader, ViewState(start="2024-02-15", end="2024-04-30"))
    assert [m.strftime("%Y-%m") for m in pd.to_datetime(data.frame["month"])] == ["2024-02", "2024-03", "2024-04"]


def test_the_month_in_progress_is_drawn_dotted_with_a_hollow_marker(reader):
    figure, _, _ = overview.draw_monthly(reader, ViewState())
    solid, link, partial = figure.data
    assert pd.Timestamp(solid.x[-1]) == pd.Timestamp("2024-05-01")
    assert link.line.dash == "dot" and list(link.y) == [solid.y[-1], partial.y[0]]
    assert partial.marker.symbol.endswith("-open")


def test_clicking_a_country_line_filters_to_that_country(reader):
    figure, _, _ = overview.draw_monthly(reader, ViewState(country=("BEL", "AUT")))
    belgium = next(trace for trace in figure.data if trace.name == "Belgium")
    click = {"points": [{"x": belgium.x[0], "y": belgium.y[0], "customdata": belgium.customdata[0]}]}
    assert overview.filter_from_click(click) == "BEL"
    combined, _, _ = overview.draw_monthly(reader, ViewState())
    assert combined.data[0].customdata is None  # the combined line is not a country
    assert overview.filter_from_click({"points": [{"x": "2024-01-01", "y": 3}]}) is None
    assert overview.filter_from_click(None) is None


# --- top movers ------------------------------------------------------------------------------


def test_the_top_mover_is_the_country_whose_referrals_grew(reader):
    movers = overview.top_movers(reader, ViewState())
    assert movers.window == "Mar–May 2024 vs Dec 2023–Feb 2024"
    sweden = movers.countries[0]
    assert sweden.entity == "SWE" and sweden.label == "Sweden"
    # 92 days against 91, plus the growth of 5 a day on each platform over the 92 recent days
    per_day = 1 + 9 * 1 + 1 + 9 * 2
    assert (sweden.recent, sweden.previous) == (92 * per_day + 92 * 5 * 2, 91 * per_day)
    assert overview.mover_text(sweden) == f"{sweden.change:+,} ({sweden.change / sweden.previous * 100:+.1f} %)"
    assert [m.entity for m in movers.platforms] == ["PhotoShare", "ChatApp"]
    assert len(movers.countries) == overview.MOVER_LIMIT


def test_movers_follow_the_filters(reader):
    movers = overview.top_movers(reader, ViewState(country=("AUT",)))
    assert [m.entity for m in movers.countries] == ["AUT"]
    assert movers.countries[0].change == 5  # one more day in the recent window, 5 referrals a day


# --- findings and alerts ---------------------------------------------------------------------


def test_without_an_analysis_the_overview_says_to_run_grace_analyse(reader):
    insights = overview.latest_insights(reader, ViewState())
    assert insights.message == overview.NO_RUN_HINT and "grace analyse" in insights.message
    assert insights.findings == [] and insights.alerts == []


def test_findings_are_ranked_and_link_to_the_trend_explorer(analysed):
    insights = overview.latest_insights(WarehouseReader(analysed), ViewState())
    assert [f.text for f in insights.findings] == [
        "A structural break in referrals in SWE in 2024-03",
        "Spike in referrals in Jul 2023",
    ]
    assert insights.findings[0].href == "/trends?country=SWE"
    assert insights.findings[1].href == "/trends"
    assert insights.run == "Latest analysis 16 Jun 2024 04:00 UTC · 21 series"
    # the two change points (+10 %; +5 referrals) are not material: only the anomaly (+25 %, +1,000) needs attention
    assert [a.meta for a in insights.alerts] == ["anomaly · Jul 2023 · referrals · EU total"]
    assert insights.attention == "1 alert(s) need your attention (1 new since the previous run)"
    assert insights.alerts_href == "/alerts"


def test_findings_follow_the_country_filter(analysed):
    insights = overview.latest_insights(WarehouseReader(analysed), ViewState(country=("AUT",)))
    assert insights.findings == [] and insights.message.startswith("The latest analysis found nothing")
    sweden = overview.latest_insights(WarehouseReader(analysed), ViewState(country=("SWE",)))
    assert [f.text for f in sweden.findings] == ["A structural break in referrals in SWE in 2024-03"]


# --- figures ---------------------------------------------------------------------------------


def test_the_figure_builder_names_missing_columns():
    with pytest.raises(ValueError, match="is_partial"):
        monthly_referrals_figure(pd.DataFrame({"month": [], "series_key": [], "series_name": [], "referrals": []}))


def test_an_empty_frame_gives_a_figure_that_says_so():
    frame = pd.DataFrame(columns=["month", "series_key", "series_name", "referrals", "is_partial"])
    figure = monthly_referrals_figure(frame)
    assert not figure.data
    assert "No referrals" in figure.layout.annotations[0].text


def test_a_sparkline_marks_its_last_point_and_has_no_axes():
    figure = sparkline_figure(pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=3, freq="MS"), "y": [1, 4, 2]}))
    line, last = figure.data
    assert list(line.y) == [1, 4, 2] and list(last.y) == [2]
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False


# --- the Dash app, in process ----------------------------------------------------------------


def update(client, dependencies, output_id: str, inputs: list[dict], state: list[dict] | None = None) -> dict:
    """POST one callback as the browser would; returns the response's outputs."""
    dependency = next(d for d in dependencies if output_id in d["output"])
    outputs = [
        dict(zip(("id", "property"), part.rsplit(".", 1))) for part in dependency["output"].strip(".").split("...")
    ]
    response = client.post(
        "/_dash-update-component",
        json={
            "output": dependency["output"],
            "outputs": outputs,
            "inputs": inputs,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
            "state": state or [],
        },
    )
    assert response.status_code == 200, response.data[:500]
    return response.get_json()["response"]


def test_the_app_serves_the_shell_and_the_overview_and_runs_its_callbacks(warehouse):
    """One app per process (Dash keeps `dash.callback` registrations globally)."""
    from dashboards.app_factory import create_app
    from dashboards.auth.testing import signed_in_client
    from dashboards.readers import reader_of

    app = create_app(warehouse)
    assert reader_of(app).path == warehouse
    client = signed_in_client(app, "analyst-one", "analyst")

    page = client.get("/")
    assert page.status_code == 200 and b"GRACE Trends" in page.data and b"og:title" not in page.data
    assert b"00-bootstrap.min.css" in page.data and b"cdn" not in page.data.lower()
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert "RESTRICTED \\u2014 law-enforcement use only" in layout
    assert '"Trend explorer"' in layout and '"Overview"' in layout  # the navbar lists the pages
    assert '"Admin"' not in layout  # an analyst's navbar has no admin page
    assert '"url-sync"' in layout and '"callback-nav"' in layout

    dependencies = client.get("/_dash-dependencies").get_json()
    body = update(
        client,
        dependencies,
        ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS),
        [{"id": ids.OVERVIEW_STATE, "property": "data", "value": "?country=AUT"}],
    )
    expected = overview.update_kpis(WarehouseReader(warehouse), ViewState(country=("AUT",)))
    assert body[ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS)]["children"] == expected.referrals.value

    # Controls -> state store and address bar; nav links keep the global filters.
    body = update(
        client,
        dependencies,
        ids.OVERVIEW_STATE,
        [
            {"id": ids.OVERVIEW_COUNTRY_FILTER, "property": "value", "value": ["FRA", "DEU"]},
            {"id": ids.OVERVIEW_PLATFORM_FILTER, "property": "value", "value": []},
            {"id": ids.OVERVIEW_PERIOD_FILTER, "property": "start_date", "value": "2024-01-01"},
            {"id": ids.OVERVIEW_PERIOD_FILTER, "property": "end_date", "value": None},
        ],
        state=[{"id": ids.OVERVIEW_STATE, "property": "data", "value": ""}],
    )
    assert body[ids.OVERVIEW_STATE]["data"] == "?country=DEU&country=FRA&start=2024-01-01"
    assert body[ids.URL_SYNC]["search"] == "?country=DEU&country=FRA&start=2024-01-01"

    # A link with an invalid query string gets a message, not a traceback.
    routed = client.post(
        "/_dash-update-component",
        json={
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": "/"},
                {"id": "_pages_location", "property": "search", "value": "?country=Germany"},
            ],
            "changedPropIds": ["_pages_location.search"],
            "state": [],
        },
    )
    assert routed.status_code == 200
    assert "This link cannot be shown" in json.dumps(routed.get_json())


# --- serving ---------------------------------------------------------------------------------


def test_an_explicit_warehouse_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRACE_WAREHOUSE", str(tmp_path / "env.duckdb"))
    assert choose_warehouse(tmp_path / "given.duckdb").origin == "option"
    assert choose_warehouse().path == tmp_path / "env.duckdb"


def test_with_nothing_configured_the_default_location_may_become_the_demo(monkeypatch, tmp_path):
    monkeypatch.delenv("GRACE_WAREHOUSE", raising=False)
    monkeypatch.setenv("GRACE_HOME", str(tmp_path))
    choice = choose_warehouse()
    assert choice.path == tmp_path / "warehouse.duckdb" and choice.may_build_demo


def test_an_existing_default_warehouse_is_served_as_it_is(monkeypatch, warehouse):
    monkeypatch.delenv("GRACE_WAREHOUSE", raising=False)
    monkeypatch.setenv("GRACE_HOME", str(warehouse.parent))
    lines = []
    assert ensure_warehouse(echo=lines.append) == warehouse
    assert lines == []


def test_a_missing_configured_warehouse_is_an_error_not_a_demo(monkeypatch, tmp_path):
    monkeypatch.setenv("GRACE_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    with pytest.raises(
        WarehouseError, match=r"missing\.duckdb: warehouse does not exist \(given by \$GRACE_WAREHOUSE\)"
    ):
        ensure_warehouse()
    assert not (tmp_path / "missing.duckdb").exists()


def test_grace_serve_with_a_missing_warehouse_prints_one_line_and_fails(tmp_path):
    from grace_cli import cli

    result = CliRunner().invoke(cli, ["serve", "--warehouse", str(tmp_path / "missing.duckdb")])
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'missing.duckdb'}: warehouse does not exist (given by --warehouse)"
    ]


def test_the_demo_scale_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("GRACE_DEMO_SCALE", raising=False)
    assert demo_scale() is None
    monkeypatch.setenv("GRACE_DEMO_SCALE", "0.002")
    assert demo_scale() == 0.002
    monkeypatch.setenv("GRACE_DEMO_SCALE", "lots")
    with pytest.raises(ConfigError, match="GRACE_DEMO_SCALE"):
        demo_scale()


def test_progress_prints_a_line_at_the_start_each_quarter_and_the_end_of_a_step():
    lines, ticks = [], iter([0.0, 2.5, 3.0])
    progress = LineProgress(lines.append, clock=lambda: next(ticks))
    for completed in (0, 10, 30, 31, 60, 100, 100):
        progress("Loading batches", completed, 100)
    progress("Counting", 5, None)
    assert lines == [
        "  … Loading batches (100)",
        "    Loading batches: 30 of 100",
        "    Loading batches: 60 of 100",
        "  ✓ Loading batches (2.5 s)",
        "  … Counting",
    ]


def test_the_url_shown_is_one_a_browser_can_open():
    assert url_for("127.0.0.1", 8050) == "http://127.0.0.1:8050/"
    assert url_for("0.0.0.0", 9000) == "http://127.0.0.1:9000/"


def test_an_alert_made_of_several_parts_keeps_its_children_flat_for_react():
    from dashboards.components import alert, invalid_view

    message = alert(["text ", html.A("link", href="/")], title="Title.")
    assert all(not isinstance(child, (list, tuple)) for child in message.children)
    view = invalid_view("/", ViewStateError("country: 'Germany' is not a valid value"))
    assert "This link cannot be shown" in json.dumps(view, cls=PlotlyJSONEncoder)


def test_an_alert_without_a_finding_says_its_change_with_a_matching_direction():
    from types import SimpleNamespace

    from dashboards.callbacks.overview import _alert_text

    dip = SimpleNamespace(
        kind="anomaly", metric="backlog", split_by="country", entity="AUT", direction="dip", relative=-0.031
    )
    assert _alert_text(dip).endswith(", down -3 %")
    spike = SimpleNamespace(**{**vars(dip), "direction": "spike", "relative": 0.064})
    assert _alert_text(spike).endswith(", up +6 %")
    unknown = SimpleNamespace(**{**vars(dip), "direction": "increase", "relative": None})
    assert _alert_text(unknown).endswith(", increase")
