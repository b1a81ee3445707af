"""Dissemination page: what its callbacks compute, as plain functions of a `WarehouseReader`.

Charts (registered, so the export routes rebuild them from the URL alone):
- platform mix over time (stacked shares, `grain` from the URL),
- a map of the EU-27: referrals per 100,000 inhabitants per country (`map_measure=rate`, the default;
  population from `analytics/reference/population.csv`) or referrals (`map_measure=count`), Luxembourg,
  Malta and Cyprus also as labelled markers, the selected countries outlined,
- the platform x country matrix (heatmap),
- cross-border spread of media clusters over time (first sightings and clusters reaching a second
  country) and two distributions: countries reached per cluster, days to the second country;
- re-shares of near-duplicate material (perceptual clusters) on another platform or in another
  country than where it was first seen, as shares of files over time;
- files matching a positive hash bank over time, by the files' category code (saying so when no
  bank is imported yet).

Everything is read from the rollups and the per-cluster tables through the `dissemination_*`
named queries. Cross-filtering: a click on the map toggles that country in the filter, a click on a
matrix cell selects its platform and country, a click on the platform mix selects that platform;
the page writes the new filter values to the filter bar, whose state sync puts them in the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

import pandas as pd

from analytics.population import PER, load_population
from dashboards.callbacks.common import PERIOD_GRAINS, ChartView, PageTexts, grain_of
from dashboards.charts import Chart, ChartData, register_chart, render, with_release_note
from dashboards.figures import empty_figure
from dashboards.figures.dissemination import (
    MAP_MEASURE_TITLES,
    OTHER_PLATFORMS,
    bank_matches_figure,
    cluster_reach_figure,
    cluster_spread_figure,
    country_map_figure,
    perceptual_reshares_figure,
    platform_country_figure,
    platform_mix_figure,
)
from dashboards.state import ViewState, ViewStateError
from grace.errors import WarehouseError
from warehouse import WarehouseReader

PAGE = "/dissemination"
GRAINS = PERIOD_GRAINS
TOP_PLATFORMS = 7  # named in the platform mix; the rest become "Other platforms" (8 palette colours)
ROLLUP_SOURCE = "GRACE warehouse, daily referral rollup"
CLUSTER_SOURCE = "GRACE warehouse, media clusters (first sightings and cross-border reach)"
PERCEPTUAL_SOURCE = "GRACE warehouse, daily perceptual-matching rollup"
BANK_SOURCE = "GRACE warehouse, daily perceptual-matching rollup (hash-bank matches) and hash banks"


class BankStatus(NamedTuple):
    """Whether files can match a hash bank at all (the bank chart's extras)."""

    positive_banks: int  # positive banks with at least one enabled entry
    enabled_entries: int


# --- state -----------------------------------------------------------------------------------


def _period(state: ViewState) -> dict[str, str | None]:
    return {"start": state.start, "end": state.end}


# --- charts ----------------------------------------------------------------------------------


def _mix_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    grain = grain_of(state)
    with reader.session() as session:
        mix = session.run(
            "dissemination_platform_mix",
            countries=list(state.country),
            platforms=list(state.platform),
            grain=grain,
            top=TOP_PLATFORMS,
            **_period(state),
        )
    return ChartData(
        frame=mix,
        count_columns=("referrals",),
        cell_columns=("period", "platform"),
        subtitle=f"Share of referrals per platform and {grain} ({state.filters_text()})",
        note=(f"The {TOP_PLATFORMS} largest platforms of the selection are named; the rest are '{OTHER_PLATFORMS}'."),
        hint="Click a platform to filter the page by it.",
    )


def country_rates(totals: pd.DataFrame, population: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The map's frame: the country totals with each country's `population` and `rate_per_100k` (referrals
    per 100,000 inhabitants), and the names of the countries that have no population figure (no rate).

    Every EU-27 country stays (zero when nothing was reported); a country outside the EU-27 only when it
    has referrals. The rate here is what the CSV holds before the small-cell rule, which blanks it with
    its count; the figure recomputes it from the (possibly suppressed) count.
    """
    figures = dict(zip(population["country_iso3"], population["population"]))
    frame = totals[totals["is_eu27"].astype(bool) | (totals["referrals"] > 0)].copy()
    frame["population"] = frame["country_iso3"].map(figures).astype("Int64")
    frame["rate_per_100k"] = (frame["referrals"] / frame["population"].astype(float) * PER).round(3)
    missing = frame.loc[frame["population"].isna(), "country_name"].astype(str).tolist()
    return frame.reset_index(drop=True), missing


def _period_words(state: ViewState) -> str:
    """The view's period for a title: '2024', '1 Jan 2024 – 30 Jun 2024', 'from 1 Mar 2024', or ''."""
    start, end = (date.fromisoformat(day) if day else None for day in (state.start, state.end))
    if start and end and start.year == end.year and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return str(start.year)
    words = [f"{day.day} {day:%b %Y}" if day else "" for day in (start, end)]
    if start and end:
        return f"{words[0]} – {words[1]}"
    return f"from {words[0]}" if start else f"to {words[1]}" if end else ""


def map_headline(state: ViewState) -> str:
    """What the map shows for a view: 'Referrals per 100,000 inhabitants by country, 2024'."""
    period = _period_words(state)
    return f"{MAP_MEASURE_TITLES[state.map_measure]} by country" + (f", {period}" if period else "")


def map_note(missing: Sequence[str], population: pd.DataFrame) -> str:
    """The map's caveats: where its population figures come from, and which countries have none."""
    dates = " and ".join(f"{day.day} {day:%B %Y}" for day in sorted(set(population["reference_date"])))
    note = f"Rates: referrals per 100,000 inhabitants (Eurostat population on {dates})."
    if missing:
        note += f" No population figure for {', '.join(missing)}, so no rate (grey on the map)."
    return note


def _map_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    with reader.session() as session:
        totals = session.run(
            "dissemination_country_totals",
            platforms=list(state.platform),
            visible=state.scope.sql_countries or [],  # the map never shows a country outside the scope
            **_period(state),
        )
    population = load_population()
    frame, missing = country_rates(totals, population)
    platforms = ", ".join(state.platform) if state.platform else "all platforms"
    return ChartData(
        frame=frame,
        count_columns=("referrals", "files"),
        cell_columns=("country_iso3",),
        subtitle=f"{MAP_MEASURE_TITLES[state.map_measure]} per country, {platforms}; selected countries outlined",
        note=map_note(missing, population),
        hint="Click a country, or the marker of a small state, to add it to the filter or remove it again.",
    )


def _matrix_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    with reader.session() as session:
        matrix = session.run(
            "dissemination_platform_country",
            countries=list(state.country),
            platforms=list(state.platform),
            **_period(state),
        )
    return ChartData(
        frame=matrix,
        count_columns=("referrals",),
        cell_columns=("platform_name", "country_iso3"),
        subtitle=f"Referrals per platform and country ({state.filters_text()})",
        hint="Click a cell to filter the page by its platform and country.",
    )


def _spread_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    grain = grain_of(state)
    with reader.session() as session:
        spread = session.run(
            "dissemination_cluster_spread",
            countries=list(state.country),
            platforms=list(state.platform),
            grain=grain,
            **_period(state),
        )
    return ChartData(
        frame=spread,
        count_columns=("clusters_first_seen", "clusters_reaching_second_country"),
        cell_columns=("period",),
        subtitle=f"Media clusters per {grain}: first sightings and arrivals in a second country",
        note=(
            "Countries filter first sightings by where a cluster was first seen and arrivals by the "
            "second country it reached; platforms filter first sightings only."
        ),
    )


def _reach_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    with reader.session() as session:
        reach = session.run("dissemination_cluster_reach", countries=list(state.country), **_period(state))
    return ChartData(
        frame=reach,
        count_columns=("clusters",),
        cell_columns=("measure", "bucket"),
        subtitle="Media clusters first seen in the selected countries and period",
        note="Platforms do not apply: a media cluster is the same file seen on any platform.",
    )


def _reshares_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    grain = grain_of(state)
    with reader.session() as session:
        reshares = session.run(
            "dissemination_perceptual_reshares",
            countries=list(state.country),
            platforms=list(state.platform),
            grain=grain,
            **_period(state),
        )
    return ChartData(
        frame=reshares,
        count_columns=("files", "cross_platform_reshares", "cross_country_reshares"),
        cell_columns=("period",),
        subtitle=f"Share of files re-sharing near-duplicate material seen first elsewhere, per {grain} "
        f"({state.filters_text()})",
        note=(
            "Near-duplicate material: files whose PDQ hashes lie within 31 bits of each other, across exact "
            "MD5/SHA1 variants. A re-share is any later file of it; counted here when its platform (country) "
            "differs from where the material was first seen, anywhere in the warehouse."
        ),
    )


def _bank_data(reader: WarehouseReader, state: ViewState) -> ChartData[BankStatus]:
    grain = grain_of(state)
    with reader.session() as session:
        matches = session.run(
            "dissemination_bank_matches",
            countries=list(state.country),
            platforms=list(state.platform),
            grain=grain,
            **_period(state),
        )
        banks = session.run("dissemination_hash_banks")
    status = BankStatus(int(banks["positive_banks"].iloc[0]), int(banks["enabled_entries"].iloc[0]))
    return ChartData(
        frame=matches,
        count_columns=("files", "bank_matched_files"),
        cell_columns=("period", "category_code"),
        subtitle=f"Files whose media cluster matches a positive hash bank per {grain}, by the file's category "
        f"({state.filters_text()})",
        note=(
            "A file matches when its exact media cluster matches an enabled entry of a positive hash bank (MD5, "
            "SHA1 or PDQ within the bank's threshold) and no negative bank matches it too. Categories are the "
            "files' own category codes." + ("" if status.positive_banks else " No positive hash bank is imported yet.")
        ),
        extras=status,
    )


MIX_CHART = register_chart(
    Chart(
        "dissemination-platform-mix",
        PAGE,
        "Platform mix over time",
        ROLLUP_SOURCE,
        _mix_data,
        lambda data, state: platform_mix_figure(data.frame, grain_of(state)),
        headline="Platform mix of referrals per {grain}",
    )
)
MAP_CHART = register_chart(
    Chart(
        "dissemination-map",
        PAGE,
        "Referrals across Europe",
        ROLLUP_SOURCE,
        _map_data,
        lambda data, state: country_map_figure(data.frame, state.country, state.map_measure),
        headline=map_headline,
    )
)
MATRIX_CHART = register_chart(
    Chart(
        "dissemination-platform-country",
        PAGE,
        "Platform × country",
        ROLLUP_SOURCE,
        _matrix_data,
        lambda data, state: platform_country_figure(data.frame),
        headline="Referrals by platform and country",
    )
)
SPREAD_CHART = register_chart(
    Chart(
        "dissemination-cluster-spread",
        PAGE,
        "Cross-border spread of media clusters",
        CLUSTER_SOURCE,
        _spread_data,
        lambda data, state: cluster_spread_figure(data.frame, grain_of(state)),
        headline="Media clusters first seen and reaching a second country, per {grain}",
        on_hub=False,
    )
)
REACH_COUNTRIES_CHART = register_chart(
    Chart(
        "dissemination-cluster-countries",
        PAGE,
        "Countries reached per media cluster",
        CLUSTER_SOURCE,
        _reach_data,
        lambda data, state: cluster_reach_figure(data.frame, "countries"),
        headline="Media clusters by number of countries reached",
        on_hub=False,
    )
)
REACH_DAYS_CHART = register_chart(
    Chart(
        "dissemination-cluster-days",
        PAGE,
        "Days to reach a second country",
        CLUSTER_SOURCE,
        _reach_data,
        lambda data, state: cluster_reach_figure(data.frame, "days"),
        headline="Media clusters by days from first sighting to a second country",
        on_hub=False,
    )
)
RESHARES_CHART = register_chart(
    Chart(
        "dissemination-near-duplicate-reshares",
        PAGE,
        "Re-shares of near-duplicate material across platforms and countries",
        PERCEPTUAL_SOURCE,
        _reshares_data,
        lambda data, state: perceptual_reshares_figure(data.frame, grain_of(state)),
        headline="Near-duplicate re-shares on another platform or in another country, per {grain}",
        on_hub=False,
    )
)
BANK_CHART = register_chart(
    Chart(
        "dissemination-bank-matches",
        PAGE,
        "Files matching a hash bank, by category",
        BANK_SOURCE,
        _bank_data,
        lambda data, state: bank_matches_figure(
            data.frame, grain_of(state), data.extras.positive_banks if data.extras else None
        ),
        headline="Files matching a hash bank per {grain}, by category",
        on_hub=False,
    )
)
CHARTS = (
    MIX_CHART,
    MAP_CHART,
    MATRIX_CHART,
    SPREAD_CHART,
    REACH_COUNTRIES_CHART,
    REACH_DAYS_CHART,
    RESHARES_CHART,
    BANK_CHART,
)
# Both reach charts come from one costly query (a join of every media cluster with its spread), so
# the page draws them together from one run of it.
REACH_CHARTS = (REACH_COUNTRIES_CHART, REACH_DAYS_CHART)


# --- the page's updates (one callback per chart) ---------------------------------------------


def draw_chart(chart: Chart, reader: WarehouseReader, state: ViewState) -> ChartView:
    """One chart of the page for a (scoped) view state, or a figure saying why it cannot be drawn."""
    try:
        grain_of(state)
        data, figure = render(chart, reader, state)
    except (WarehouseError, ViewStateError) as error:
        return ChartView(empty_figure("Not available: see the message above."), "", str(error))
    return ChartView(figure, data.subtitle, data.page_note)


def draw_reach_charts(reader: WarehouseReader, state: ViewState) -> tuple[ChartView, ...]:
    """The two cluster-reach charts (`REACH_CHARTS`, in that order) from one run of their query."""
    try:
        grain_of(state)
        data = _reach_data(reader, state)
    except (WarehouseError, ViewStateError) as error:
        return tuple(
            ChartView(empty_figure("Not available: see the message above."), "", str(error)) for _ in REACH_CHARTS
        )
    drawn = [(chart, with_release_note(data, reader, chart)) for chart in REACH_CHARTS]
    return tuple(ChartView(chart.figure(mine, state), mine.subtitle, mine.page_note) for chart, mine in drawn)


def page_texts(state: ViewState) -> PageTexts:
    """The scope line, and a status message when the view cannot be drawn."""
    try:
        grain_of(state)
    except ViewStateError as error:
        return PageTexts(scope_text(state), f"Invalid view: {error}")
    return PageTexts(scope_text(state), "")


def scope_text(state: ViewState) -> str:
    """What the page covers, in words."""
    return f"Showing {state.filters_text()}."


# --- cross-filtering -------------------------------------------------------------------------


def _first_point(click_data: Any) -> dict | None:
    points = (click_data or {}).get("points") if isinstance(click_data, dict) else None
    return points[0] if points else None


def country_from_click(click_data: Any) -> str | None:
    """The ISO-3 code of the country clicked on the map (None if the click hit no country)."""
    point = _first_point(click_data)
    if not point:
        return None
    code = point.get("location") or point.get("customdata")
    return str(code) if isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper() else None


def cell_from_click(click_data: Any) -> tuple[str, str] | None:
    """(platform, ISO-3 code) of the matrix cell clicked (from the heatmap's customdata)."""
    point = _first_point(click_data)
    data = point.get("customdata") if point else None
    if isinstance(data, (list, tuple)) and len(data) >= 2 and all(isinstance(v, str) for v in data[:2]):
        return data[0], data[1]
    return None


def platform_from_click(click_data: Any) -> str | None:
    """The platform clicked in the platform mix ('Other platforms' is not a platform: None)."""
    point = _first_point(click_data)
    data = point.get("customdata") if point else None
    platform = data[0] if isinstance(data, (list, tuple)) and data else None
    return platform if isinstance(platform, str) and platform != OTHER_PLATFORMS else None


def toggled(values: Sequence[str] | None, value: str) -> list[str]:
    """`values` with `value` added, or removed if it was there (sorted, no duplicates)."""
    current = set(values or [])
    current.symmetric_difference_update({value})
    return sorted(current)


def cross_filter(
    trigger: str | None,
    map_click: Any,
    matrix_click: Any,
    mix_click: Any,
    countries: Sequence[str] | None,
    platforms: Sequence[str] | None,
) -> tuple[list[str], list[str]]:
    """New (countries, platforms) filter values after a click on one of the page's charts.

    trigger: "map", "matrix" or "mix" (which chart was clicked). A click that hits nothing
    selectable leaves the filters as they were.
    """
    countries, platforms = sorted(set(countries or [])), sorted(set(platforms or []))
    if trigger == "map":
        code = country_from_click(map_click)
        if code:
            countries = toggled(countries, code)
    elif trigger == "matrix":
        cell = cell_from_click(matrix_click)
        if cell:
            platforms, countries = [cell[0]], [cell[1]]
    elif trigger == "mix":
        platform = platform_from_click(mix_click)
        if platform:
            platforms = [platform]
    return countries, platforms
