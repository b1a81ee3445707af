"""Dissemination page: its callbacks as plain functions, on a warehouse built by the real ETL.

Expected values are recomputed from the fact tables and `cluster_reach` (not from the rollups
the page reads), so a wrong rollup query, filter or figure fails.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import query_frame, simulated_warehouse

from dashboards.app_factory import ASSETS_DIR
from dashboards.callbacks import dissemination as page
from dashboards.charts import charts_for_page
from dashboards.figures.dissemination import (
    ALL_SUPPRESSED,
    MAP_RESOLUTION,
    MAP_SCOPE,
    NO_BANK,
    NO_BANK_MATCH,
    OTHER_PLATFORMS,
    TOPOJSON_FILE,
    bank_matches_figure,
    perceptual_reshares_figure,
    platform_mix_figure,
    topojson_uri,
)
from dashboards.state import ViewState
from grace.scope import Scope
from warehouse import WarehouseReader
from warehouse.reference import EU27

EU27_CODES = {country[0] for country in EU27}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two years of a tiny simulated EU through the real ETL (exports and packages)."""
    return simulated_warehouse(tmp_path_factory.mktemp("dissemination_wh"), seed=11, packages=True)


@pytest.fixture
def reader(built):
    return WarehouseReader(built)


truth = query_frame  # the expected values, straight from the warehouse's tables


def draw(chart, reader, query: str = ""):
    return page.draw_chart(chart, reader, ViewState.from_query(query))


# --- platform mix ------------------------------------------------------------------------------


def test_the_platform_mix_stacks_shares_that_add_up_to_100_percent_each_period(reader):
    figure = draw(page.MIX_CHART, reader, "grain=quarter").figure
    assert len(figure.data) == page.TOP_PLATFORMS + 1 and figure.data[-1].name == OTHER_PLATFORMS
    assert {trace.type for trace in figure.data} == {"bar"} and figure.layout.barmode == "stack"
    totals = [sum(values) for values in zip(*(trace.y for trace in figure.data))]
    assert len(totals) == 8 and all(abs(total - 100) < 0.1 for total in totals)


def test_the_platform_mix_counts_match_the_fact_table(reader, built):
    figure = draw(page.MIX_CHART, reader, "grain=year&country=DEU&country=FRA").figure
    facts = truth(
        built,
        "SELECT platform_name, year(incident_date) AS y, count(*) AS n FROM fact_referral "
        "WHERE country_iso3 IN ('DEU', 'FRA') GROUP BY ALL",
    )
    ranking = facts.groupby("platform_name")["n"].sum().sort_values(ascending=False, kind="stable")
    named = [trace.name for trace in figure.data if trace.name != OTHER_PLATFORMS]
    assert set(named) == set(ranking.index[: page.TOP_PLATFORMS])
    for trace in figure.data:
        in_trace = facts[facts["platform_name"].isin(named if trace.name == OTHER_PLATFORMS else [trace.name])]
        if trace.name == OTHER_PLATFORMS:
            in_trace = facts[~facts["platform_name"].isin(named)]
        expected = in_trace.groupby("y")["n"].sum().reindex([2023, 2024], fill_value=0).tolist()
        assert [count for _, count in trace.customdata] == expected, trace.name


def test_choosing_a_country_or_a_period_changes_the_platform_mix(reader):
    everything = draw(page.MIX_CHART, reader).figure
    austria = draw(page.MIX_CHART, reader, "country=AUT").figure
    year = draw(page.MIX_CHART, reader, "start=2024-01-01&end=2024-12-31").figure
    assert [t.y for t in austria.data] != [t.y for t in everything.data]
    assert len(year.data[0].x) == 12 and year.data[0].x[0] == "2024-01-01"
    assert len(everything.data[0].x) == 24


def test_a_platform_filter_narrows_the_mix_to_that_platform(reader):
    figure = draw(page.MIX_CHART, reader, "platform=Chatterly").figure
    assert [trace.name for trace in figure.data] == ["Chatterly"]
    assert set(figure.data[0].y) == {100.0}


# --- map ---------------------------------------------------------------------------------------


def test_the_map_is_an_iso3_choropleth_centred_on_europe_with_counts_from_the_facts(reader, built):
    figure = draw(page.MAP_CHART, reader, "platform=Streamora").figure
    choropleth = figure.data[0]
    assert choropleth.type == "choropleth" and choropleth.locationmode == "ISO-3"
    geo = figure.layout.geo
    assert (geo.scope, geo.resolution) == (MAP_SCOPE, MAP_RESOLUTION)
    assert geo.lonaxis.range == (-25, 45) and geo.lataxis.range == (33, 71)  # Europe, Cyprus included
    drawn = dict(zip(choropleth.locations, choropleth.z))
    facts = truth(
        built, "SELECT country_iso3, count(*) AS n FROM fact_referral WHERE platform_name = 'Streamora' GROUP BY 1"
    )
    assert {code: n for code, n in drawn.items() if n} == dict(zip(facts["country_iso3"], facts["n"]))
    assert set(drawn) >= EU27_CODES


def test_the_map_keeps_every_country_and_outlines_the_selected_ones(reader):
    everything = draw(page.MAP_CHART, reader).figure
    selected = draw(page.MAP_CHART, reader, "country=DEU&country=POL").figure
    assert list(selected.data[0].z) == list(everything.data[0].z)  # the map itself is not narrowed
    outline = selected.data[1]
    assert list(outline.locations) == ["DEU", "POL"] and outline.showscale is False
    assert outline.marker.line.width > everything.data[0].marker.line.width
    assert len(everything.data) == 1


def test_a_user_limited_to_one_country_gets_only_that_country_on_the_map(reader):
    with reader.session() as session:
        scoped = session.run("dissemination_country_totals", platforms=[], start=None, end=None, visible=["NLD"])
    assert scoped["country_iso3"].tolist() == ["NLD"]
    data = page.MAP_CHART.data(reader, ViewState().within(Scope.of_countries(["NLD"])))
    assert data.frame.loc[data.frame["referrals"] > 0, "country_iso3"].tolist() == ["NLD"]


def test_the_map_shapes_are_served_locally_for_its_scope_and_resolution_with_every_eu_country():
    assert f"{MAP_SCOPE}_{MAP_RESOLUTION}m.json" == TOPOJSON_FILE  # the name plotly.js asks for
    assert topojson_uri().startswith("file://") and topojson_uri().endswith("/assets/topojson/")
    topojson = ASSETS_DIR / "topojson" / TOPOJSON_FILE
    shapes = json.loads(topojson.read_text(encoding="utf-8"))
    codes = {geometry.get("id") for geometry in shapes["objects"]["countries"]["geometries"]}
    assert codes >= EU27_CODES


# --- platform x country ------------------------------------------------------------------------


def test_the_matrix_holds_referrals_per_platform_and_country_from_the_facts(reader, built):
    figure = draw(page.MATRIX_CHART, reader, "start=2024-01-01").figure
    heatmap = figure.data[0]
    facts = truth(
        built,
        "SELECT platform_name, country_iso3, count(*) AS n FROM fact_referral "
        "WHERE incident_date >= DATE '2024-01-01' GROUP BY ALL",
    )
    drawn = {
        (platform, country): heatmap.z[i][j]
        for i, platform in enumerate(heatmap.y)
        for j, country in enumerate(heatmap.x)
    }
    assert {key: n for key, n in drawn.items() if n} == {(p, c): n for p, c, n in facts.itertuples(index=False)}
    totals = facts.groupby("platform_name")["n"].sum()
    assert next(iter(heatmap.y)) == totals.idxmax()  # largest platform on top
    assert heatmap.customdata[0][0][:2] == [heatmap.y[0], heatmap.x[0]]


def test_filtering_the_matrix_by_country_keeps_only_that_column(reader):
    heatmap = draw(page.MATRIX_CHART, reader, "country=ITA").figure.data[0]
    assert list(heatmap.x) == ["ITA"]


# --- cross-border spread of media clusters ------------------------------------------------------


def second_country_dates(built) -> pd.DataFrame:
    """From cluster_reach alone: per cluster, first sighting and the day a second country first saw it."""
    return truth(
        built,
        """
        WITH per_country AS (
            SELECT cluster_id, country_iso3, min(first_seen_date) AS d FROM cluster_reach GROUP BY ALL
        ), ranked AS (
            SELECT cluster_id, country_iso3, d,
                   row_number() OVER (PARTITION BY cluster_id ORDER BY d, country_iso3) AS n
            FROM per_country
        )
        SELECT CAST(m.cluster_id AS VARCHAR) AS cluster_id, m.first_seen_date, m.first_seen_country,
               r.d AS second_date, r.country_iso3 AS second
        FROM media_cluster AS m LEFT JOIN ranked AS r ON r.cluster_id = m.cluster_id AND r.n = 2
    """,
    )


def test_the_spread_counts_first_sightings_and_arrivals_in_a_second_country(reader, built):
    figure = draw(page.SPREAD_CHART, reader, "grain=year").figure
    first, second = figure.data
    assert (first.name, second.name) == ("First seen", "Reached a second country")
    clusters = second_country_dates(built)
    reached = clusters.dropna(subset=["second_date"])
    assert list(first.x) == ["2023-01-01", "2024-01-01"]
    assert list(first.y) == clusters.groupby(pd.to_datetime(clusters["first_seen_date"]).dt.year).size().tolist()
    assert list(second.y) == reached.groupby(pd.to_datetime(reached["second_date"]).dt.year).size().tolist()
    assert 0 < sum(second.y) < sum(first.y)


def test_a_country_filter_counts_clusters_first_seen_there_and_arrivals_there(reader, built):
    figure = draw(page.SPREAD_CHART, reader, "grain=year&country=DEU").figure
    clusters = second_country_dates(built)
    assert sum(figure.data[0].y) == int((clusters["first_seen_country"] == "DEU").sum())
    assert sum(figure.data[1].y) == int((clusters["second"] == "DEU").sum())


def test_the_reach_distributions_match_cluster_reach(reader, built):
    countries = draw(page.REACH_COUNTRIES_CHART, reader).figure.data[0]
    days = draw(page.REACH_DAYS_CHART, reader).figure.data[0]
    reach = truth(
        built,
        "SELECT CAST(cluster_id AS VARCHAR) AS cluster_id, count(DISTINCT country_iso3) AS k "
        "FROM cluster_reach GROUP BY 1",
    )
    bins = pd.cut(reach["k"], [0, 1, 2, 3, 4, 9, 19, 10_000], labels=list(countries.x))
    assert list(countries.y) == bins.value_counts().reindex(list(countries.x)).tolist()
    clusters = second_country_dates(built).dropna(subset=["second_date"])
    waited = (pd.to_datetime(clusters["second_date"]) - pd.to_datetime(clusters["first_seen_date"])).dt.days
    bins = pd.cut(waited.clip(lower=0), [-1, 0, 7, 30, 90, 365, 100_000], labels=list(days.x))
    assert list(days.x) == ["same day", "1–7", "8–30", "31–90", "91–365", "> 365"]
    assert list(days.y) == bins.value_counts().reindex(list(days.x)).tolist()


def test_a_period_narrows_the_reach_distributions_to_clusters_first_seen_in_it(reader, built):
    everything = sum(draw(page.REACH_COUNTRIES_CHART, reader).figure.data[0].y)
    late = sum(draw(page.REACH_COUNTRIES_CHART, reader, "start=2024-07-01").figure.data[0].y)
    ((expected,),) = truth(
        built, "SELECT count(*) FROM media_cluster WHERE first_seen_date >= DATE '2024-07-01'"
    ).values
    assert late == expected < everything


# --- cross-filtering ---------------------------------------------------------------------------


def test_clicking_a_country_on_the_map_adds_it_to_the_filter_and_clicking_again_removes_it():
    click = {"points": [{"location": "FRA", "z": 12, "customdata": "FRA"}]}
    countries, platforms = page.cross_filter("map", click, None, None, ["DEU"], ["Chatterly"])
    assert (countries, platforms) == (["DEU", "FRA"], ["Chatterly"])
    assert page.cross_filter("map", click, None, None, countries, platforms)[0] == ["DEU"]


def test_clicking_a_matrix_cell_filters_by_its_platform_and_country():
    click = {"points": [{"x": "ITA", "y": "Snapverse", "z": 3, "customdata": ["Snapverse", "ITA", "Italy"]}]}
    assert page.cross_filter("matrix", None, click, None, ["DEU"], []) == (["ITA"], ["Snapverse"])


def test_clicking_a_platform_in_the_mix_filters_by_it_but_other_platforms_is_not_a_platform():
    click = {"points": [{"customdata": ["Streamora", 40]}]}
    assert page.cross_filter("mix", None, None, click, [], []) == ([], ["Streamora"])
    other = {"points": [{"customdata": [OTHER_PLATFORMS, 40]}]}
    assert page.cross_filter("mix", None, None, other, ["AUT"], ["Glimmr"]) == (["AUT"], ["Glimmr"])


def test_clicks_that_hit_nothing_leave_the_filters_alone():
    for trigger, click in (
        ("map", {"points": []}),
        ("map", None),
        ("matrix", {"points": [{"z": 1}]}),
        ("map", {"points": [{"location": "<script>"}]}),
        (None, None),
    ):
        args = (click, None, None) if trigger == "map" else (None, click, None)
        assert page.cross_filter(trigger, *args, ["BEL"], ["PixelDrop"]) == (["BEL"], ["PixelDrop"])


# --- errors and registry -----------------------------------------------------------------------


def test_a_grain_the_page_does_not_offer_gives_a_message_instead_of_an_error(reader):
    state = ViewState.from_query("grain=day")
    assert page.page_texts(state).status.startswith("Invalid view: grain: 'day' is not offered on this page")
    chart = page.draw_chart(page.MIX_CHART, reader, state)
    assert not chart.figure.data and "not offered" in chart.note


def test_an_unreadable_warehouse_gives_a_message_instead_of_an_error(tmp_path):
    chart = page.draw_chart(page.MAP_CHART, WarehouseReader(tmp_path / "gone.duckdb"), ViewState())
    assert "does not exist" in chart.note and not chart.figure.data


def test_the_scope_line_names_the_filters():
    assert page.page_texts(ViewState.from_query("country=DEU&start=2024-01-01")).scope == (
        "Showing Countries: DEU · Platforms: all · Period: 2024-01-01 to latest."
    )


def test_an_empty_mix_says_there_is_nothing_to_show():
    frame = pd.DataFrame(columns=["period", "platform", "platform_rank", "referrals", "period_referrals", "share"])
    assert "No referrals" in platform_mix_figure(frame).layout.annotations[0].text


def test_every_dissemination_chart_is_registered_for_export():
    assert [chart.chart_id for chart in charts_for_page("/dissemination")] == [
        "dissemination-platform-mix",
        "dissemination-map",
        "dissemination-platform-country",
        "dissemination-cluster-spread",
        "dissemination-cluster-countries",
        "dissemination-cluster-days",
        "dissemination-near-duplicate-reshares",
        "dissemination-bank-matches",
    ]
    assert not any(chart.eu_wide for chart in charts_for_page("/dissemination"))


@pytest.mark.slow
def test_the_map_renders_to_png_offline_from_the_local_shapes(reader):
    """kaleido's own plotly.js would fetch shapes from the internet; pointed at the assets it needs none."""
    import kaleido

    figure = draw(page.MAP_CHART, reader, "country=CYP").figure
    kaleido.start_sync_server(n=1, timeout=120, mathjax=False, silence_warnings=True)
    try:
        png = kaleido.calc_fig_sync(
            figure, opts={"format": "png", "width": 800, "height": 600}, topojson=topojson_uri()
        )
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # shapes drawn, not an empty frame


def test_both_reach_charts_are_drawn_from_one_run_of_their_query_and_match_the_single_charts(reader):
    state = ViewState.from_query("country=DEU")
    together = page.draw_reach_charts(reader, state)
    alone = [page.draw_chart(chart, reader, state) for chart in page.REACH_CHARTS]
    assert len(together) == 2
    for both, single in zip(together, alone):
        assert both.figure.to_dict()["data"] == single.figure.to_dict()["data"]
        assert (both.subtitle, both.note) == (single.subtitle, single.note)


# --- near-duplicate re-shares and hash-bank matches ---------------------------------------------

RESHARES_BY_YEAR = """
    SELECT CAST(date_trunc('year', o.incident_date) AS DATE) AS period,
           count(*) FILTER (WHERE o.platform_name <> pc.first_seen_platform) AS cross_platform,
           count(*) FILTER (WHERE o.country_iso3 <> pc.first_seen_country) AS cross_country
    FROM fact_file_occurrence AS o
    JOIN perceptual_member USING (cluster_id) JOIN perceptual_cluster AS pc USING (perceptual_id)
    WHERE (o.referral_key, o.file_ordinal) <> (pc.first_referral_key, pc.first_file_ordinal)
      AND (len(CAST($countries AS VARCHAR[])) = 0 OR list_contains(CAST($countries AS VARCHAR[]), o.country_iso3))
    GROUP BY ALL ORDER BY period
"""
FILES_BY_YEAR = """
    SELECT CAST(date_trunc('year', incident_date) AS DATE) AS period, count(*) AS files FROM fact_file_occurrence
    WHERE (len(CAST($countries AS VARCHAR[])) = 0 OR list_contains(CAST($countries AS VARCHAR[]), country_iso3))
    GROUP BY ALL ORDER BY period
"""


def years(frame: pd.DataFrame, column: str) -> dict[int, int]:
    return {pd.Timestamp(p).year: int(v) for p, v in zip(frame["period"], frame[column])}


@pytest.mark.parametrize("country", [None, "LUX"])
def test_near_duplicate_reshares_match_the_file_facts(reader, built, country):
    countries = [country] if country else []
    view = ViewState.from_query("grain=year" + (f"&country={country}" if country else ""))
    data = page.RESHARES_CHART.data(reader, view)
    later = truth(built, RESHARES_BY_YEAR, {"countries": countries})  # files that are not the first sighting
    files = truth(built, FILES_BY_YEAR, {"countries": countries})
    assert years(data.frame, "files") == years(files, "files")
    assert years(data.frame, "cross_platform_reshares") == years(later, "cross_platform")
    assert years(data.frame, "cross_country_reshares") == years(later, "cross_country")
    assert data.frame["cross_country_reshares"].sum() > 0
    shares = (data.frame["cross_platform_reshares"] / data.frame["files"]).tolist()
    assert data.frame["cross_platform_share"].tolist() == pytest.approx(shares)
    figure = page.draw_chart(page.RESHARES_CHART, reader, view).figure
    assert [trace.name for trace in figure.data] == [
        "On another platform than first seen",
        "In another country than first seen",
    ]
    assert list(figure.data[0].y) == pytest.approx(shares)


def test_a_user_scoped_to_one_country_gets_its_reshares_and_bank_rows_only(reader):
    scoped = ViewState.from_query("grain=year").within(Scope.of_countries(["MLT"]))
    filtered = ViewState.from_query("grain=year&country=MLT")
    for chart in (page.RESHARES_CHART, page.BANK_CHART):
        pd.testing.assert_frame_equal(chart.data(reader, scoped).frame, chart.data(reader, filtered).frame)
    everyone = page.BANK_CHART.data(reader, ViewState.from_query("grain=year")).frame
    assert page.BANK_CHART.data(reader, scoped).frame["files"].sum() < everyone["files"].sum()


def test_without_a_hash_bank_the_bank_chart_says_none_is_imported(reader, built):
    view = ViewState.from_query("grain=year")
    data = page.BANK_CHART.data(reader, view)
    assert data.extras == page.BankStatus(0, 0)
    assert int(data.frame["bank_matched_files"].sum()) == 0
    assert int(data.frame["files"].sum()) == int(truth(built, "SELECT count(*) AS n FROM fact_file_occurrence")["n"][0])
    drawn = page.draw_chart(page.BANK_CHART, reader, view)
    assert drawn.figure.layout.annotations[0].text == NO_BANK and drawn.figure.data == ()
    assert "No positive hash bank is imported yet" in drawn.note


@pytest.fixture(scope="module")
def banked(built, tmp_path_factory):
    """The warehouse with one positive bank and, as if it matched, the known files of DEU's category A1 and
    FRA's B1 counted as bank matches in the perceptual rollup."""
    import shutil

    from dashboard_warehouse import insert

    from warehouse import connect

    path = tmp_path_factory.mktemp("banked") / "warehouse.duckdb"
    shutil.copy(built, path)
    con = connect(path)
    insert(con, "hash_bank", "SELECT 'test-bank' AS bank_name, false AS is_negative, 'test' AS scheme")
    insert(con, "hash_bank_entry", "SELECT 'test-bank' AS bank_name, 1 AS entry_id, true AS is_enabled")
    con.execute(
        "UPDATE rollup_perceptual_daily SET bank_matched_files = files - new_items "
        "WHERE (country_iso3, category_code) IN (('DEU', 'A1'), ('FRA', 'B1'))"
    )
    con.close()
    return path


def test_bank_matches_are_stacked_by_the_files_category(banked):
    reader = WarehouseReader(banked)
    view = ViewState.from_query("grain=year&country=DEU&country=FRA")
    data = page.BANK_CHART.data(reader, view)
    assert data.extras == page.BankStatus(1, 1)
    expected = truth(
        banked,
        "SELECT year(date_key) AS y, category_code, sum(bank_matched_files) AS n, sum(files) AS f "
        "FROM rollup_perceptual_daily WHERE country_iso3 IN ('DEU', 'FRA') GROUP BY ALL ORDER BY ALL",
    )
    got = data.frame.assign(y=[pd.Timestamp(p).year for p in data.frame["period"]])
    assert got[["y", "category_code", "bank_matched_files", "files"]].values.tolist() == expected.values.tolist()
    figure = page.draw_chart(page.BANK_CHART, reader, view).figure
    assert figure.layout.barmode == "stack" and figure.layout.legend.title.text == "Category"
    matched = {trace.name: sum(v or 0 for v in trace.y) for trace in figure.data}
    assert matched["A1"] > 0 and matched["B1"] > 0 and matched.get("A2", 0) == 0
    # a selection without matches says so, naming no error
    elsewhere = page.draw_chart(page.BANK_CHART, reader, ViewState.from_query("grain=year&country=ITA"))
    assert elsewhere.figure.layout.annotations[0].text == NO_BANK_MATCH


def test_new_dissemination_figures_draw_gaps_for_suppressed_counts_and_say_when_all_are():
    nan = float("nan")
    periods = pd.to_datetime(["2023-01-01", "2024-01-01"])
    reshares = pd.DataFrame(
        {
            "period": periods,
            "files": [40, nan],
            "cross_platform_reshares": [12, nan],
            "cross_country_reshares": [20, nan],
            "cross_platform_share": [0.3, nan],
            "cross_country_share": [0.5, nan],
        }
    )
    figure = perceptual_reshares_figure(reshares, "year")
    assert list(figure.data[0].y) == [0.3, None] and figure.data[0].customdata[1][0] == "–"
    hidden = reshares.assign(**{c: nan for c in reshares.columns if c != "period"})
    assert perceptual_reshares_figure(hidden, "year").layout.annotations[0].text == ALL_SUPPRESSED
    matches = pd.DataFrame(
        {
            "period": periods,
            "category_code": ["A1", "A1"],
            "files": [40, nan],
            "bank_matched_files": [15, nan],
            "bank_match_share": [0.375, nan],
        }
    )
    bars = bank_matches_figure(matches, "year", positive_banks=1)
    assert list(bars.data[0].y) == [15, None]
    all_hidden = matches.assign(files=nan, bank_matched_files=nan)
    assert bank_matches_figure(all_hidden, "year", 1).layout.annotations[0].text == ALL_SUPPRESSED
    assert bank_matches_figure(matches, "year", positive_banks=0).layout.annotations[0].text == NO_BANK
