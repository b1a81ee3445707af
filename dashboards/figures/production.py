"""Figures of the Production & consumption page: new vs known material (exactly and perceptually),
near-duplicate variants, self-generated and generative-AI shares, distinct pseudonymous accounts,
repeat reporting.

DataFrames in (the frames built by `dashboards.callbacks.production`), plotly figures out. Counts may
be NaN (a cell suppressed by the small-cell rule in an export): such points become gaps, never
zeros. Every point carries `customdata` saying what a click selects: `period:<ISO date>` (zoom the
page to that period) or `entity:<code>` (filter to a country or platform of a split chart).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import (
    MARKER_SYMBOLS,
    PALETTE,
    base_layout,
    empty_figure,
    iso_days,
    line_dash,
    merged,
    traces,
)
from grace.vocabulary import TOTAL

HOVER_DATES = {"week": "week of %d %b %Y", "month": "%B %Y", "quarter": "Q%q %Y", "year": "%Y"}
TICK_DATES = {"week": "%d %b %Y", "month": "%b %Y", "quarter": "Q%q %Y", "year": "%Y"}
PERIOD_DTICK = {"week": 7 * 24 * 3600 * 1000, "month": "M1", "quarter": "M3", "year": "M12"}
PERIOD_DAYS = {"week": 7, "month": 30.5, "quarter": 91.5, "year": 365.25}
BAR_WIDTH_MS = {grain: days * 0.7 * 24 * 3600 * 1000 for grain, days in PERIOD_DAYS.items()}  # 70 % of a period
MAX_PERIOD_TICKS = 12  # up to this many periods, every period gets a labelled tick
SHARE_TICKS = ",.1~%"  # 0.5 %, 4 %, 12 % (never two equal labels for small shares)
MATERIAL_COLUMNS = ("ds", "new_media_clusters", "known_files", "files")
SHARE_COLUMNS = ("ds", "files", "self_generated", "generative_ai", "self_generated_share", "generative_ai_share")
ACCOUNT_COLUMNS = ("ds", "entity", "reported_accounts")
REPEAT_COLUMNS = ("ds", "referrals_with_account", "first_reports", "repeat_reports", "repeat_share")
PERCEPTUAL_COLUMNS = ("ds", "perceptually_new_files", "perceptually_known_files", "files", "perceptually_new_share")
VARIANT_COLUMNS = ("ds", "perceptually_new_files", "near_duplicate_variants", "variants_per_new_item")
NO_PERCEPTUAL_FILES = "No files in this selection, or perceptual matching has not run on them yet."
CONTEXT_COLOUR = "#9AA5B1"  # neutral grey for context lines (all files)
SUPPRESSED = "Every count of this selection is below the small-cell threshold, so none is shown."


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s): {', '.join(missing)}")


def _values(values) -> list[float | None]:
    """Plain floats, NaN (suppressed) as None so plotly leaves a gap."""
    floats = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return [None if value != value else value for value in floats.tolist()]


def _periods(values) -> list[str]:
    return [f"period:{day}" for day in iso_days(values)]


def _nothing_to_draw(frame: pd.DataFrame, columns: Iterable[str], title: str, nothing: str) -> go.Figure | None:
    """A figure saying why there is nothing to draw (no data, or every count suppressed), else None."""
    numbers = frame[list(columns)].apply(pd.to_numeric, errors="coerce")
    if frame.empty or (bool((numbers.fillna(0) == 0).all().all()) and not numbers.isna().any().any()):
        return empty_figure(nothing, title)
    if bool((numbers.isna() | (numbers == 0)).all().all()):
        return empty_figure(SUPPRESSED, title)
    return None


def _layout(title: str, grain: str, y_title: str, periods, tickformat: str = ",d", extra: dict | None = None) -> dict:
    """The figure's layout: `base_layout(title)`, then `extra` (what one chart adds), then axis titles and
    formats, one tick per period for short series, legend under the plot.

    With one or two periods plotly would zoom into milliseconds around the point; the x range is
    padded by most of a period on each side instead.
    """
    days = list(pd.DatetimeIndex(pd.to_datetime(periods)).unique().sort_values())
    xaxis: dict = {"hoverformat": HOVER_DATES.get(grain, "%d %b %Y")}
    if 0 < len(days) <= MAX_PERIOD_TICKS:
        xaxis.update(tickformat=TICK_DATES[grain], dtick=PERIOD_DTICK[grain], tick0=days[0].strftime("%Y-%m-%d"))
    if 0 < len(days) <= 2:
        pad = pd.Timedelta(days=PERIOD_DAYS[grain] * 0.6)
        xaxis.update(range=[(days[0] - pad).strftime("%Y-%m-%d"), (days[-1] + pad).strftime("%Y-%m-%d")])
    return merged(
        base_layout(title),
        extra or {},
        {
            "xaxis": xaxis,
            "yaxis": {"title": {"text": y_title}, "tickformat": tickformat},
            "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.14, "yanchor": "top"},
            "margin": {"b": 96},
        },
    )


def material_figure(frame: pd.DataFrame, grain: str = "month") -> go.Figure:
    """New media clusters (first sightings) against files of known material, with all files as context."""
    _require(frame, MATERIAL_COLUMNS, "new vs known material")
    title = f"New and known material per {grain}"
    empty = _nothing_to_draw(frame, MATERIAL_COLUMNS[1:], title, "No files in this selection.")
    if empty is not None:
        return empty
    frame = frame.sort_values("ds")
    x, custom = iso_days(frame["ds"]), _periods(frame["ds"])
    fig = traces.figure(layout=_layout(title, grain, "Count", frame["ds"]))
    for index, (column, name) in enumerate(
        (("new_media_clusters", "New media clusters (first sightings)"), ("known_files", "Files of known material"))
    ):
        fig.add_trace(
            traces.scatter(
                x=x,
                y=_values(frame[column]),
                name=name,
                customdata=custom,
                mode="lines+markers",
                line={"color": PALETTE[index], "width": 2.5},
                marker={"color": PALETTE[index], "symbol": MARKER_SYMBOLS[index], "size": 7},
                hovertemplate="%{y:,.0f}<extra>" + name + "</extra>",
            )
        )
    fig.add_trace(
        traces.scatter(
            x=x,
            y=_values(frame["files"]),
            name="All files",
            customdata=custom,
            mode="lines",
            line={"color": CONTEXT_COLOUR, "width": 1.5, "dash": "dot"},
            hovertemplate="%{y:,.0f}<extra>All files</extra>",
        )
    )
    return fig


def shares_figure(frame: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Shares of files flagged self-generated and generative-AI, with the counts on hover."""
    _require(frame, SHARE_COLUMNS, "self-generated and generative-AI shares")
    title = f"Self-generated and generative-AI shares of files per {grain}"
    empty = _nothing_to_draw(frame, ("files",), title, "No files in this selection.")
    if empty is not None:
        return empty
    frame = frame.sort_values("ds")
    x = iso_days(frame["ds"])
    fig = traces.figure(layout=_layout(title, grain, "Share of files", frame["ds"], SHARE_TICKS))
    shares = (("self_generated", "Self-generated"), ("generative_ai", "Generative AI"))
    for index, (column, name) in enumerate(shares, start=2):
        counts = np.array(  # one object array: Plotly copies it as a block, not list by list
            [
                [period, "–" if pd.isna(n) else f"{n:,.0f}", "–" if pd.isna(d) else f"{d:,.0f}"]
                for period, n, d in zip(_periods(frame["ds"]), frame[column], frame["files"])
            ],
            dtype=object,
        ).reshape(-1, 3)
        fig.add_trace(
            traces.scatter(
                x=x,
                y=_values(frame[f"{column}_share"]),
                name=name,
                customdata=counts,
                mode="lines+markers",
                line={"color": PALETTE[index], "width": 2.5},
                marker={"color": PALETTE[index], "symbol": MARKER_SYMBOLS[index], "size": 7},
                hovertemplate="%{y:.1%} (%{customdata[1]} of %{customdata[2]} files)<extra>" + name + "</extra>",
            )
        )
    return fig


def accounts_figure(frame: pd.DataFrame, grain: str = "month", split_label: str = "") -> go.Figure:
    """Distinct pseudonymous accounts reported per period.

    Unsplit (entity 'total'): distinct accounts and accounts reported for the first time. Split
    (entities are countries or platforms): one line of distinct accounts per entity; clicking a line
    selects its entity (`customdata` "entity:<code>").
    """
    _require(frame, ACCOUNT_COLUMNS, "distinct accounts")
    title = f"Distinct pseudonymous accounts reported per {grain}"
    empty = _nothing_to_draw(frame, ("reported_accounts",), title, "No accounts reported in this selection.")
    if empty is not None:
        return empty
    entities = list(dict.fromkeys(frame["entity"].astype(str)))
    split = {} if entities == [TOTAL] else {"legend": {"title": {"text": split_label}}}
    fig = traces.figure(layout=_layout(title, grain, "Accounts", frame["ds"], extra=split))
    if entities == [TOTAL]:
        frame = frame.sort_values("ds")
        x, custom = iso_days(frame["ds"]), _periods(frame["ds"])
        lines = [("reported_accounts", "Distinct accounts reported")]
        if "new_reported_accounts" in frame.columns:
            lines.append(("new_reported_accounts", "Accounts reported for the first time"))
        for index, (column, name) in enumerate(lines):
            fig.add_trace(
                traces.scatter(
                    x=x,
                    y=_values(frame[column]),
                    name=name,
                    customdata=custom,
                    mode="lines+markers",
                    line={"color": PALETTE[index], "width": 2.5},
                    marker={
                        "color": PALETTE[index],
                        "size": 9 if index == 0 else 7,
                        "line": {"width": 2},
                        "symbol": MARKER_SYMBOLS[index] + ("" if index == 0 else "-open"),
                    },
                    hovertemplate="%{y:,.0f}<extra>" + name + "</extra>",
                )
            )
    else:
        for index, entity in enumerate(entities):
            part = frame[frame["entity"].astype(str) == entity].sort_values("ds")
            colour = PALETTE[index % len(PALETTE)]
            fig.add_trace(
                traces.scatter(
                    x=iso_days(part["ds"]),
                    y=_values(part["reported_accounts"]),
                    name=entity,
                    customdata=[f"entity:{entity}"] * len(part),
                    mode="lines+markers",
                    line={"color": colour, "width": 2.2, "dash": line_dash(index, len(entities))},
                    marker={"color": colour, "symbol": MARKER_SYMBOLS[index % len(MARKER_SYMBOLS)], "size": 6},
                    hovertemplate="%{y:,.0f}<extra>%{fullData.name}</extra>",
                )
            )
    return fig


def _bars_and_ratio(
    frame: pd.DataFrame,
    grain: str,
    title: str,
    bars: tuple[tuple[str, str], ...],
    line: tuple[str, str],
    y_title: str,
    line_title: str,
    line_format: str = SHARE_TICKS,
    line_hover: str = "%{y:.1%}",
) -> go.Figure:
    """Stacked count bars per period (the first plain, the next hatched) and a ratio line on a right axis."""
    frame = frame.sort_values("ds")
    x, custom = iso_days(frame["ds"]), _periods(frame["ds"])
    right_axis = {
        "barmode": "stack",
        "bargap": 0.25,
        "margin": {"r": 72},
        "yaxis2": {
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": line_format,
            "title": {"text": line_title},
        },
    }
    fig = traces.figure(layout=_layout(title, grain, y_title, frame["ds"], extra=right_axis))
    for index, (column, name) in enumerate(bars):
        fig.add_trace(
            traces.bar(
                x=x,
                y=_values(frame[column]),
                name=name,
                customdata=custom,
                marker={"color": PALETTE[index]},
                marker_pattern_shape="" if index == 0 else "/",
                width=BAR_WIDTH_MS[grain],
                hovertemplate="%{y:,.0f}<extra>" + name + "</extra>",
            )
        )
    column, name = line
    fig.add_trace(
        traces.scatter(
            x=x,
            y=_values(frame[column]),
            name=f"{name} (right axis)",
            yaxis="y2",
            customdata=custom,
            mode="lines+markers",
            line={"color": "#000000", "width": 2, "dash": "dash"},
            marker={"symbol": "diamond", "size": 7, "color": "#000000"},
            hovertemplate=line_hover + "<extra>" + name + "</extra>",
        )
    )
    return fig


def repeat_figure(frame: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Referrals with an account: first reports and repeat reports stacked, the repeat share on the right."""
    _require(frame, REPEAT_COLUMNS, "repeat reporting")
    title = f"Repeat reporting of accounts per {grain}"
    empty = _nothing_to_draw(
        frame, ("referrals_with_account",), title, "No referrals with an account pseudonym in this selection."
    )
    if empty is not None:
        return empty
    return _bars_and_ratio(
        frame,
        grain,
        title,
        (("first_reports", "First report of the account"), ("repeat_reports", "Repeat report")),
        ("repeat_share", "Repeat share"),
        "Referrals with an account",
        "Repeat share",
    )


def perceptual_material_figure(frame: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Files of perceptually new material and of material seen before (stacked: all files), with the
    perceptually new share on the right axis."""
    _require(frame, PERCEPTUAL_COLUMNS, "new vs known material, measured perceptually")
    title = f"New and known material, measured perceptually, per {grain}"
    empty = _nothing_to_draw(frame, ("files",), title, NO_PERCEPTUAL_FILES)
    if empty is not None:
        return empty
    return _bars_and_ratio(
        frame,
        grain,
        title,
        (
            ("perceptually_new_files", "New material (first of its near-duplicates)"),
            ("perceptually_known_files", "Material seen before"),
        ),
        ("perceptually_new_share", "Share new"),
        "Files",
        "Share of files that are new",
    )


def variants_figure(frame: pd.DataFrame, grain: str = "month") -> go.Figure:
    """New material and new near-duplicate variants of material seen before (stacked: every new exact
    file variant), with the variants per new item on the right axis."""
    _require(frame, VARIANT_COLUMNS, "near-duplicate variants")
    title = f"Near-duplicate variants per {grain}"
    empty = _nothing_to_draw(
        frame,
        ("perceptually_new_files", "near_duplicate_variants"),
        title,
        "No new material or variants in this selection.",
    )
    if empty is not None:
        return empty
    return _bars_and_ratio(
        frame,
        grain,
        title,
        (
            ("perceptually_new_files", "New material"),
            ("near_duplicate_variants", "New variant of material seen before"),
        ),
        ("variants_per_new_item", "Variants per new item"),
        "First sightings of a file variant",
        "Variants per new item",
        line_format=",.2f",
        line_hover="%{y:.2f}",
    )
