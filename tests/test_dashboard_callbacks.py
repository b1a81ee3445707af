"""Overview callbacks as plain functions, the app wiring, and serving — on a real DuckDB warehouse."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest
from click.testing import CliRunner

from dashboards import ids
from dashboards.callbacks import overview
from dashboards.figures import MAX_SERIES, OKABE_ITO, monthly_referrals_figure
from dashboards.queries import WarehouseReader
from dashboards.serve import LineProgress, choose_warehouse, demo_scale, ensure_warehouse, url_for
from etl.warehouse import connect, ensure_schema
from grace.errors import ConfigError, WarehouseError

COUNTRIES = ("AUT", "BEL", "DEU", "FRA", "ITA", "NLD", "POL", "ESP", "SWE")  # one more than MAX_SERIES
PLATFORMS = ("ChatApp", "PhotoShare")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Jan 2023 - mid Jun 2024, every country and platform: 1,000s of referrals, so separators show.

    Shared by the module: tests only read it.
    """
    path = tmp_path_factory.mktemp("callbacks") / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    con.execute(
        """
        INSERT INTO rollup_referral_daily
        SELECT CAST(d AS DATE), c.country, p.platform, 'chat', 'IT_CP',
               1 + c.weight * p.weight, 0, 0, 0, 0, 0, 2 * c.weight, 0, 0
        FROM range(DATE '2023-01-01', DATE '2024-06-16', INTERVAL 1 DAY) AS t(d),
             (SELECT unnest($countries) AS country, generate_subscripts($countries, 1) AS weight) AS c,
             (SELECT unnest($platforms) AS platform, generate_subscripts($platforms, 1) AS weight) AS p
        """,
        {"countries": list(COUNTRIES), "platforms": list(PLATFORMS)},
    )
    con.execute(
        """
        INSERT INTO rollup_file_daily
        SELECT date_key, country_iso3, platform_name, 'A1', files, 1, 0, 0, 0, 0 FROM rollup_referral_daily
        """
    )
    con.execute(
        "INSERT INTO media_cluster SELECT i, NULL, NULL, NULL, false, DATE '2023-01-01', 'AUT', "
        "'AGY-AUT', DATE '2023-01-01', 1, 1, 1, 1 FROM range(2500) AS t(i)"
    )
    con.execute(
        "INSERT INTO etl_batch VALUES ('batch-1', 'case_export', 'delivery', 'checksum', 'loaded', 0, 0, 1200, 0, "
        "0, 0, 34, 0, NULL, TIMESTAMP '2024-06-16 01:00:00', TIMESTAMP '2024-06-16 01:02:03', 123.0, '{}', 'test', '1')"
    )
    con.close()
    return path


@pytest.fixture
def reader(warehouse):
    return WarehouseReader(warehouse)


def plotted_total(figure: go.Figure) -> int:
    """Sum of the plotted values, ignoring the dotted links (they repeat a point)."""
    return int(sum(sum(trace.y) for trace in figure.data if trace.hoverinfo != "skip"))


def legend_names(figure: go.Figure) -> list[str]:
    return [trace.name for trace in figure.data if trace.showlegend is not False]


# --- load_filters ----------------------------------------------------------------------------


def test_load_filters_offers_the_countries_by_name_and_the_platforms(reader):
    state = overview.load_filters(reader)
    assert state.country_options[0] == {"label": "Austria", "value": "AUT"}
    assert [option["value"] for option in state.country_options] == [
        "AUT", "BEL", "FRA", "DEU", "ITA", "NLD", "POL", "ESP", "SWE",  # sorted by name
    ]
    assert state.platform_options == [{"label": name, "value": name} for name in PLATFORMS]


def test_load_filters_states_how_fresh_the_data_is(reader):
    assert overview.load_filters(reader).freshness == (
        "Incidents up to 15 Jun 2024 · last ETL batch finished 16 Jun 2024 01:02 UTC (1 batch loaded)."
    )


# --- update_overview -------------------------------------------------------------------------


def test_without_filters_the_kpis_show_warehouse_totals_with_thousands_separators(reader):
    state = overview.update_overview(reader, None, None)
    days = 532
    referrals = days * sum(1 + c * p for c in range(1, 10) for p in (1, 2))
    assert state.referrals == f"{referrals:,}"
    assert state.files == f"{days * sum(4 * c for c in range(1, 10)):,}"
    assert state.media_clusters == "2,500"
    assert state.media_clusters_note == "distinct clusters in the warehouse"
    assert state.quarantined == "1,234"
    assert state.scope == "Showing all countries, all platforms."
    assert state.status == ""
    assert plotted_total(state.figure) == referrals


def test_choosing_a_country_changes_the_figure_and_the_kpis(reader):
    everything = overview.update_overview(reader, [], [])
    austria = overview.update_overview(reader, ["AUT"], [])
    assert plotted_total(austria.figure) < plotted_total(everything.figure)
    assert austria.referrals != everything.referrals
    assert austria.figure.layout.title.text == "Referrals per month, Austria"
    assert austria.media_clusters_note == "first seen in this selection"
    assert austria.quarantined == everything.quarantined  # quarantine has no country
    assert austria.scope == "Showing 1 country, all platforms."


def test_choosing_a_platform_changes_the_figure(reader):
    chat = overview.update_overview(reader, None, ["ChatApp"])
    photo = overview.update_overview(reader, None, ["PhotoShare"])
    assert plotted_total(chat.figure) < plotted_total(photo.figure)
    assert chat.scope == "Showing all countries, 1 platform."


def test_a_few_countries_get_one_line_each_in_distinct_colours(reader):
    state = overview.update_overview(reader, ["BEL", "AUT"], None)
    assert legend_names(state.figure) == ["Austria", "Belgium"]
    colours = {trace.line.color for trace in state.figure.data if trace.showlegend is not False}
    assert colours == set(OKABE_ITO[:2])
    assert state.figure.layout.showlegend is True


def test_more_countries_than_colours_are_combined_into_one_line(reader):
    state = overview.update_overview(reader, list(COUNTRIES), None)
    assert len(COUNTRIES) > MAX_SERIES
    assert legend_names(state.figure) == ["Selection"]
    assert state.figure.layout.title.text == f"Referrals per month, {len(COUNTRIES)} countries combined"


def test_the_month_in_progress_is_drawn_dotted_with_a_hollow_marker(reader):
    figure = overview.update_overview(reader, None, None).figure
    solid, link, partial = figure.data
    assert pd.Timestamp(solid.x[-1]) == pd.Timestamp("2024-05-01")
    assert link.line.dash == "dot" and list(link.y) == [solid.y[-1], partial.y[0]]
    assert pd.Timestamp(partial.x[0]) == pd.Timestamp("2024-06-01")
    assert partial.marker.symbol.endswith("-open")
    assert "in progress" in figure.layout.title.subtitle.text


def test_an_unreadable_warehouse_gives_a_message_instead_of_an_error(tmp_path):
    missing = WarehouseReader(tmp_path / "gone.duckdb")
    state = overview.update_overview(missing, ["AUT"], None)
    assert state.status.startswith("Warehouse unavailable:") and "does not exist" in state.status
    assert state.referrals == "–"
    assert overview.load_filters(missing).country_options == []


def test_dropdown_values_are_normalised_into_a_sorted_list():
    assert overview.selection(None) == []
    assert overview.selection("AUT") == ["AUT"]
    assert overview.selection(["BEL", "AUT", "", "BEL"]) == ["AUT", "BEL"]


# --- figures ---------------------------------------------------------------------------------


def test_the_figure_builder_names_missing_columns():
    with pytest.raises(ValueError, match="is_partial"):
        monthly_referrals_figure(pd.DataFrame({"month": [], "series_key": [], "series_name": [], "referrals": []}))


def test_an_empty_frame_gives_a_figure_that_says_so():
    frame = pd.DataFrame(columns=["month", "series_key", "series_name", "referrals", "is_partial"])
    figure = monthly_referrals_figure(frame)
    assert not figure.data
    assert "No referrals" in figure.layout.annotations[0].text


# --- the Dash app, in process ----------------------------------------------------------------


def test_the_app_serves_the_overview_page_and_runs_its_callbacks(warehouse):
    """One app per process (Dash keeps `dash.callback` registrations globally)."""
    from dashboards.app_factory import create_app, reader_of

    app = create_app(warehouse)
    assert reader_of(app).path == warehouse
    client = app.server.test_client()

    page = client.get("/")
    assert page.status_code == 200 and b"GRACE Trends" in page.data and b"og:title" not in page.data
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert "RESTRICTED \\u2014 law-enforcement use only" in layout

    dependencies = client.get("/_dash-dependencies").get_json()
    outputs = " ".join(dependency["output"] for dependency in dependencies)
    assert ids.OVERVIEW_MONTHLY_GRAPH in outputs and ids.OVERVIEW_COUNTRY_FILTER in outputs

    update = next(d for d in dependencies if ids.OVERVIEW_MONTHLY_GRAPH in d["output"])
    outputs = [
        dict(zip(("id", "property"), part.rsplit(".", 1))) for part in update["output"].strip(".").split("...")
    ]
    response = client.post(
        "/_dash-update-component",
        json={
            "output": update["output"],
            "outputs": outputs,
            "inputs": [
                {"id": ids.OVERVIEW_COUNTRY_FILTER, "property": "value", "value": ["AUT"]},
                {"id": ids.OVERVIEW_PLATFORM_FILTER, "property": "value", "value": []},
            ],
            "changedPropIds": [f"{ids.OVERVIEW_COUNTRY_FILTER}.value"],
            "state": [],
        },
    )
    assert response.status_code == 200, response.data[:500]
    body = response.get_json()["response"]
    assert body[ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS)]["children"] == overview.update_overview(
        WarehouseReader(warehouse), ["AUT"], []
    ).referrals


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
    with pytest.raises(WarehouseError, match=r"missing\.duckdb: warehouse does not exist \(given by \$GRACE_WAREHOUSE\)"):
        ensure_warehouse()
    assert not (tmp_path / "missing.duckdb").exists()


def test_grace_serve_with_a_missing_warehouse_prints_one_line_and_fails(tmp_path):
    from grace.cli import cli

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
