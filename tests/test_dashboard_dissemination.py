"""Dissemination page: its callbacks as plain functions, on a warehouse built by the real ETL.

Expected values are recomputed from the fact tables and `cluster_reach` (not from the rollups
the page reads), so a wrong rollup query, filter or figure fails.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import query_frame, simulated_warehouse
from plotly.colors import sample_colorscale

from analytics.population import load_population
from dashboards.app_factory import ASSETS_DIR
from dashboards.callbacks import dissemination as page
from dashboards.charts import charts_for_page
from dashboards.exports.build import prepare, serialise
from dashboards.figures.dissemination import (
    ALL_SUPPRESSED,
    MAP_RESOLUTION,
    MAP_SCOPE,
    NO_BANK,
    NO_BANK_MATCH,
    NO_VALUE_COLOUR,
    NOT_SHOWN,
    OTHER_PLATFORMS,
    SEQUENTIAL,
    SMALL_STATES,
    TOPOJSON_FILE,
    bank_matches_figure,
    country_map_figure,
    perceptual_reshares_figure,
    platform_mix_figure,
    rate_text,
    topojson_uri,
)
from dashboards.state import ViewState, ViewStateError
from dashboards.titles import export_title, headline
from dashboards.wiring import apply_controls
from grace.disclosure import MARKER
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


def trace(figure, name: str):
    """The figure's trace called `name` (None when it has none)."""
    return next((t for t in figure.data if t.name == name), None)


def facts_per_country(built, where: str = "true") -> dict[str, int]:
    counts = truth(built, f"SELECT country_iso3, count(*) AS n FROM fact_referral WHERE {where} GROUP BY 1")
    return dict(zip(counts["country_iso3"], counts["n"].astype(int)))


def test_the_map_is_an_iso3_choropleth_of_the_eu_27_with_counts_from_the_facts_when_asked_for_counts(reader, built):
    figure = draw(page.MAP_CHART, reader, "platform=Streamora&map_measure=count").figure
    choropleth = figure.data[0]
    assert choropleth.type == "choropleth" and choropleth.locationmode == "ISO-3"
    geo = figure.layout.geo
    assert (geo.scope, geo.resolution) == (MAP_SCOPE, MAP_RESOLUTION)
    drawn = dict(zip(choropleth.locations, choropleth.z))
    facts = facts_per_country(built, "platform_name = 'Streamora'")
    assert {code: n for code, n in drawn.items() if n} == facts
    assert set(drawn) >= EU27_CODES
    assert choropleth.colorbar.title.text == "Referrals"


def test_the_map_shows_referrals_per_100000_inhabitants_by_default_computed_from_the_sourced_population(reader, built):
    data = page.MAP_CHART.data(reader, ViewState())
    frame = data.frame.set_index("country_iso3")
    population = load_population().set_index("country_iso3")["population"]
    facts = facts_per_country(built)
    assert set(frame.index) == EU27_CODES  # countries outside the EU-27 without referrals are left out
    for code in EU27_CODES:
        assert frame.loc[code, "referrals"] == facts.get(code, 0)
        assert frame.loc[code, "population"] == population[code]
        rate = facts.get(code, 0) / population[code] * 100_000
        assert frame.loc[code, "rate_per_100k"] == pytest.approx(rate, abs=1e-3)
    assert {"referrals", "files"} <= set(data.count_columns) and data.cell_columns == ("country_iso3",)
    figure = page.MAP_CHART.figure(data, ViewState())
    drawn = dict(zip(figure.data[0].locations, figure.data[0].z))
    assert drawn["MLT"] == pytest.approx(facts["MLT"] / population["MLT"] * 100_000, abs=1e-3)
    assert drawn["DEU"] == pytest.approx(facts["DEU"] / population["DEU"] * 100_000, abs=1e-3)
    assert figure.data[0].colorbar.title.text == "Referrals per 100,000 inhabitants"
    assert "Eurostat population on 1 January 2024" in data.note


def test_the_hover_of_a_country_and_of_a_small_state_gives_its_rate_and_its_count(reader, built):
    figure = draw(page.MAP_CHART, reader).figure
    facts = facts_per_country(built)
    rate = facts["MLT"] / load_population().set_index("country_iso3").loc["MLT", "population"] * 100_000
    expected = f"Malta: {rate_text(rate)} per 100,000 ({facts['MLT']:,} referrals)"
    choropleth, markers = figure.data[0], trace(figure, "Small states")
    assert choropleth.hovertext[list(choropleth.locations).index("MLT")] == expected
    assert markers.hovertext[list(markers.customdata).index("MLT")] == expected
    assert choropleth.hovertemplate == "%{hovertext}<extra></extra>"
    counted = draw(page.MAP_CHART, reader, "map_measure=count").figure.data[0]
    assert counted.hovertext[list(counted.locations).index("MLT")] == (
        f"Malta: {facts['MLT']:,} referrals ({rate_text(rate)} per 100,000)"
    )
    assert rate_text(12.345) == "12.3" and rate_text(0.4234) == "0.42" and rate_text(0.03125) == "0.031"


def test_luxembourg_malta_and_cyprus_are_labelled_markers_carrying_their_iso3_code_and_their_colour(reader):
    figure = draw(page.MAP_CHART, reader, "country=MLT").figure
    markers = trace(figure, "Small states")
    assert markers.type == "scattergeo" and markers.mode == "markers+text"
    assert sorted(markers.customdata) == ["CYP", "LUX", "MLT"]
    assert dict(zip(markers.customdata, markers.text)) == {"LUX": "LU", "MLT": "MT", "CYP": "CY"}
    for code, lon, lat in zip(markers.customdata, markers.lon, markers.lat):
        assert (lon, lat) == (SMALL_STATES[code].lon, SMALL_STATES[code].lat)
    choropleth = figure.data[0]
    values = dict(zip(choropleth.locations, choropleth.z))
    for code, colour in zip(markers.customdata, markers.marker.color):  # the same colour as its country
        assert colour == sample_colorscale(SEQUENTIAL, [values[code] / choropleth.zmax])[0]
    widths = dict(zip(markers.customdata, markers.marker.line.width))
    assert widths["MLT"] > widths["CYP"]  # the selected one is outlined like its country
    click = {"points": [{"curveNumber": 3, "pointNumber": 0, "lon": 14.42, "lat": 35.9, "customdata": "MLT"}]}
    assert page.cross_filter("map", click, None, None, ["MLT"], []) == ([], [])
    assert page.cross_filter("map", click, None, None, [], []) == (["MLT"], [])


def mainland_bounds(topojson: dict, codes) -> dict[str, tuple[float, float, float, float]]:
    """(lon min, lon max, lat min, lat max) of each country's shapes north of 33° N and east of 12° W
    (Europe, without the outermost regions: Canaries, Azores, Madeira, overseas France)."""
    scale, shift = topojson["transform"]["scale"], topojson["transform"]["translate"]
    arcs = []
    for arc in topojson["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale[0] + shift[0], y * scale[1] + shift[1]))
        arcs.append(points)
    bounds = {}
    for geometry in topojson["objects"]["countries"]["geometries"]:
        if geometry.get("id") not in codes:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        points = [point for polygon in polygons for a in polygon[0] for point in arcs[a if a >= 0 else ~a]]
        europe = [(lon, lat) for lon, lat in points if lat > 33 and lon > -12]
        lons, lats = [lon for lon, _ in europe], [lat for _, lat in europe]
        bounds[geometry["id"]] = (min(lons), max(lons), min(lats), max(lats))
    return bounds


def test_the_map_frames_the_eu_27_tightly_in_an_equal_area_projection_with_the_colour_bar_under_it():
    codes = sorted(EU27_CODES)
    frame = pd.DataFrame(
        {"country_iso3": codes, "country_name": codes, "referrals": range(10, 37), "population": [10**6] * 27}
    )
    figure = country_map_figure(frame)
    geo = figure.layout.geo
    assert geo.projection.type == "azimuthal equal area"
    assert (geo.projection.rotation.lon, geo.projection.rotation.lat) == (10, 52)  # Eurostat's ETRS89-LAEA
    (west, east), (south, north) = geo.lonaxis.range, geo.lataxis.range
    shapes = json.loads((ASSETS_DIR / "topojson" / TOPOJSON_FILE).read_text(encoding="utf-8"))
    bounds = mainland_bounds(shapes, EU27_CODES)
    assert set(bounds) == EU27_CODES
    for code, (lon_min, lon_max, lat_min, lat_max) in bounds.items():
        assert west <= lon_min and lon_max <= east and south <= lat_min and lat_max <= north, code
    assert east - west <= 52 and north - south <= 38  # was 70° x 38°, a third of it outside the EU
    bar = figure.data[0].colorbar
    assert bar.orientation == "h" and bar.y <= geo.domain.y[0] and bar.x == 0.5  # centred under the map
    assert not figure.layout.title.text  # the card (page) and the marking (exports) carry the title


def test_a_suppressed_count_leaves_a_gap_in_the_rate_on_the_map_and_in_the_csv(reader):
    state = ViewState.from_query("start=2024-12-01&end=2024-12-31")
    prepared = prepare(page.MAP_CHART, reader, state, k=25, fresh="")
    frame = prepared.data.frame.set_index("country_iso3")
    hidden = frame["referrals"].isna()
    assert hidden.any() and not hidden.all()
    assert frame.loc[hidden, "rate_per_100k"].isna().all()  # no rate from a hidden count
    figure = prepared.chart.figure(prepared.data, state)
    values = figure.data[0]
    assert not set(values.locations) & set(frame.index[hidden])
    grey = trace(figure, NOT_SHOWN["suppressed"])
    assert set(grey.locations) == set(frame.index[hidden]) and grey.showlegend and figure.layout.showlegend
    assert all("count suppressed" in text for text in grey.hovertext)
    markers = trace(figure, "Small states")
    for code, colour in zip(markers.customdata, markers.marker.color):
        assert (colour == NO_VALUE_COLOUR) == bool(hidden[code])
    # A rate left in the frame does not matter: the figure computes the rate from the count it is given.
    leaky = prepared.data.frame.assign(rate_per_100k=1.0)
    assert country_map_figure(leaky).data[0].locations == values.locations
    csv = serialise(prepared, "csv", state).body.decode()
    rows = [line.split(",") for line in csv.splitlines() if not line.startswith("#")]
    header = rows[0]
    suppressed_rows = [row for row in rows[1:] if row[header.index("referrals")] == MARKER]
    assert suppressed_rows and all(row[header.index("rate_per_100k")] == MARKER for row in suppressed_rows)


def test_a_country_without_a_population_figure_gets_no_rate_and_the_note_says_so():
    totals = pd.DataFrame(
        {
            "country_iso3": ["DEU", "MLT", "NOR", "USA"],
            "country_name": ["Germany", "Malta", "Norway", "USA"],
            "is_eu27": [True, True, False, False],
            "referrals": [500, 40, 30, 0],
            "files": [900, 80, 60, 0],
        }
    )
    population = load_population()
    frame, missing = page.country_rates(totals, population[population["country_iso3"] != "MLT"])
    assert list(frame["country_iso3"]) == ["DEU", "MLT", "NOR"]  # outside the EU-27 only with referrals
    assert missing == ["Malta", "Norway"]
    assert frame["rate_per_100k"].isna().tolist() == [False, True, True]
    assert "No population figure for Malta, Norway, so no rate" in page.map_note(missing, population)
    figure = country_map_figure(frame)
    assert list(figure.data[0].locations) == ["DEU"]
    grey = trace(figure, NOT_SHOWN["population"])
    assert list(grey.locations) == ["MLT", "NOR"] and list(grey.customdata) == ["MLT", "NOR"]
    assert grey.hovertext[0] == "Malta: 40 referrals (no population figure, so no rate)"
    counted = country_map_figure(frame, measure="count")
    assert list(counted.data[0].locations) == ["DEU", "MLT", "NOR"]
    assert trace(counted, NOT_SHOWN["population"]) is None


def test_the_map_measure_round_trips_through_the_url_and_rate_is_the_default():
    assert ViewState().map_measure == "rate" and ViewState.from_query("").map_measure == "rate"
    counted = ViewState.from_query("country=MLT&map_measure=count")
    assert counted.map_measure == "count"
    assert counted.to_query() == "?country=MLT&map_measure=count"
    assert ViewState.from_query(counted.to_query()) == counted
    assert ViewState.from_query("map_measure=rate").to_query() == ""  # the default is not written
    with pytest.raises(ViewStateError, match="map_measure: 'share' is not one of rate, count"):
        ViewState.from_query("map_measure=share")
    assert apply_controls(ViewState(), {"map_measure": "count"}).map_measure == "count"
    assert apply_controls(counted, {"map_measure": None}).map_measure == "rate"
    assert counted.global_part().to_query() == "?country=MLT"  # the measure stays on its page


def test_the_map_headline_names_the_measure_and_the_period_and_the_click_hint_stays_on_the_page(reader):
    assert page.map_headline(ViewState()) == "Referrals per 100,000 inhabitants by country"
    assert headline(page.MAP_CHART, ViewState.from_query("map_measure=count&start=2024-01-01&end=2024-12-31")) == (
        "Referrals by country, 2024"
    )
    assert page.map_headline(ViewState.from_query("start=2024-03-01&end=2024-06-30")) == (
        "Referrals per 100,000 inhabitants by country, 1 Mar 2024 – 30 Jun 2024"
    )
    assert page.map_headline(ViewState.from_query("start=2024-03-01")).endswith("by country, from 1 Mar 2024")
    assert page.map_headline(ViewState.from_query("end=2024-03-31")).endswith("by country, to 31 Mar 2024")
    assert export_title(page.MAP_CHART, ViewState.from_query("country=MLT")) == (
        "Referrals per 100,000 inhabitants by country — Malta"
    )
    data = page.MAP_CHART.data(reader, ViewState())
    assert "Click" in data.hint and "Click" not in data.note
    assert "Click" in draw(page.MAP_CHART, reader).note  # the page shows the hint under the chart
    csv = serialise(prepare(page.MAP_CHART, reader, ViewState(), fresh=""), "csv", ViewState()).body.decode()
    assert "Click" not in csv


def test_the_map_keeps_every_country_and_outlines_the_selected_ones(reader):
    everything = draw(page.MAP_CHART, reader).figure
    selected = draw(page.MAP_CHART, reader, "country=DEU&country=POL").figure
    assert list(selected.data[0].z) == list(everything.data[0].z)  # the map itself is not narrowed
    outline = trace(selected, "Selected")
    assert list(outline.locations) == ["DEU", "POL"] and outline.showscale is False
    assert outline.marker.line.width > everything.data[0].marker.line.width
    assert trace(everything, "Selected") is None
    assert [t.name for t in everything.data] == ["Referrals per 100,000 inhabitants", "Small states"]
    assert not everything.layout.showlegend  # nothing grey, no legend


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
    from warehouse.period_rollups import refresh_period_rollups

    path = tmp_path_factory.mktemp("banked") / "warehouse.duckdb"
    shutil.copy(built, path)
    con = connect(path)
    insert(con, "hash_bank", "SELECT 'test-bank' AS bank_name, false AS is_negative, 'test' AS scheme")
    insert(con, "hash_bank_entry", "SELECT 'test-bank' AS bank_name, 1 AS entry_id, true AS is_enabled")
    con.execute(
        "UPDATE rollup_perceptual_daily SET bank_matched_files = files - new_items "
        "WHERE (country_iso3, category_code) IN (('DEU', 'A1'), ('FRA', 'B1'))"
    )
    refresh_period_rollups(con, None, ["rollup_perceptual_daily"])  # as every writer of the daily rows does
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
