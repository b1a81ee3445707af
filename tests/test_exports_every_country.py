"""Every chart exports for every one of the 27 member states, for a user scoped to it and for an unscoped
user filtering on it: small countries are the normal case, and most of their cells are suppressed.

A small simulated warehouse (the real simulator and ETL, every EU country, two years) with a real
analysis run. The default suite builds every chart's data, small-cell rule, figure and CSV for each
country and view, and whole briefing packs (PNG, SVG, PDF through Chromium) for the smallest states;
the `slow` test renders every page's pack for all 27 countries.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from builders import simulated_warehouse

from dashboards.catalogue import all_charts
from dashboards.exports.build import briefing_pack, page_slug, prepare, serialise
from dashboards.state import ViewState
from grace.scope import Scope
from warehouse import WarehouseReader
from warehouse.reference import EU27_ISO3

SMALL_STATES = ("MLT", "CYP", "LUX")


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    from analytics.warehouse_run import run_analysis

    path = simulated_warehouse(tmp_path_factory.mktemp("every_country"), scale=0.003)
    run_analysis(path, metrics=["referrals"], grains=["month"])
    return WarehouseReader(path, idle_seconds=60)


def views_of(country: str) -> dict[str, ViewState]:
    """The two ways to look at one country: scoped to it, and an unscoped user filtering on it."""
    return {"scoped": ViewState().within(Scope.of_countries([country])), "filtered": ViewState(country=(country,))}


def charts_for(view: ViewState):
    """The charts a view may export (EU-wide ones are refused to scoped users, tested elsewhere)."""
    return [chart for chart in all_charts() if view.scope.eu_wide or not chart.eu_wide]


@pytest.mark.parametrize("country", EU27_ISO3)
def test_every_chart_builds_its_figure_and_csv_for_the_country(reader, country):
    for how, view in views_of(country).items():
        for chart in charts_for(view):
            state = view.with_changes(metric="referrals") if chart.page != "/operations" else view
            prepared = prepare(chart, reader, state, fresh="")
            figure = prepared.figure()
            assert json.loads(figure.to_json())["data"] is not None, (how, chart.chart_id)
            csv_text = serialise(prepared, "csv", state).body.decode()
            assert "Classification: RESTRICTED" in csv_text, (how, chart.chart_id)
            if how == "scoped":  # no other member state's code in any cell of a scoped user's export
                cells = {cell for line in csv_text.splitlines() if not line.startswith("#") for cell in line.split(",")}
                assert not (cells & (set(EU27_ISO3) - {country})), (chart.chart_id, cells & set(EU27_ISO3))


@pytest.mark.parametrize("country", SMALL_STATES)
def test_every_page_pack_of_a_small_state_holds_every_chart_in_every_format(reader, country):
    for view in views_of(country).values():
        for page in sorted({chart.page for chart in charts_for(view)}):
            state = view.with_changes(metric="referrals") if page != "/operations" else view
            pack = briefing_pack(page, reader, state)
            with zipfile.ZipFile(io.BytesIO(pack.body)) as archive:
                names = archive.namelist()
                assert all(archive.read(name) for name in names), page
            manifest = json.loads(zipfile.ZipFile(io.BytesIO(pack.body)).read("manifest.json"))
            for entry in manifest["charts"]:
                assert {name.rsplit(".", 1)[-1] for name in entry["files"]} == {"png", "svg", "pdf", "csv"}
            assert page_slug(page) in pack.filename


@pytest.mark.slow
@pytest.mark.parametrize("country", EU27_ISO3)
def test_every_page_pack_exports_for_every_country(reader, country):
    for view in views_of(country).values():
        for page in sorted({chart.page for chart in charts_for(view)}):
            state = view.with_changes(metric="referrals") if page != "/operations" else view
            assert briefing_pack(page, reader, state).body
