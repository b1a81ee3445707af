"""Figures of the Operations & data quality page: ETL row accounting, quarantine, throughput.

DataFrames in (the frames of the `operations_*` named queries), plotly figures out. Batches are
drawn in the order they started and labelled `#1`, `#2` … with the batch's source and start time
on hover, so a long history of batches stays readable.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import (
    MARKER_SYMBOLS,
    PALETTE,
    base_layout,
    empty_figure,
    fill_pattern,
    merged,
    traces,
    whole_or_gap,
)

RECORD_KINDS = ("referrals", "files")
# Where each input row went; colours keep their meaning across charts.
OUTCOMES = (
    ("loaded", "Loaded", PALETTE[0]),
    ("duplicate", "Duplicate", PALETTE[1]),
    ("quarantined", "Quarantined", PALETTE[3]),
)
IN_COLOUR = PALETTE[6]
MAX_FIELDS = 15  # rows of the "by field" chart; the rest are summed into one row
BATCH_COLUMNS = ("batch_id", "source_kind", "source", "started_at", "duration_seconds")


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s): {', '.join(missing)}")


def _check_kind(kind: str) -> str:
    if kind not in RECORD_KINDS:
        raise ValueError(f"record kind {kind!r} is not one of {', '.join(RECORD_KINDS)}")
    return kind


def batch_labels(batches: pd.DataFrame) -> list[str]:
    """`#1` … `#n` in the frame's order (the queries sort batches by start time)."""
    return [f"#{number}" for number in range(1, len(batches) + 1)]


def batch_hover(batches: pd.DataFrame) -> list[str]:
    """One hover line per batch: source kind, the delivery's name and when it started."""
    started = pd.to_datetime(batches["started_at"]).dt.strftime("%d %b %Y %H:%M:%S")
    names = [str(name) for name in batches["source"]]
    return [f"{kind} · {name} · {when}" for kind, name, when in zip(batches["source_kind"], names, started)]


def row_accounting_figure(batches: pd.DataFrame, kind: str = "referrals") -> go.Figure:
    """Per batch, where the rows read went (stacked bars), with the rows read as a marker on top.

    A batch balances when the marker sits exactly on the top of its stack
    (in = loaded + quarantined + duplicate); the hover shows the gap.
    """
    kind = _check_kind(kind)
    _require(
        batches, BATCH_COLUMNS + tuple(f"{kind}_{o}" for o, _, _ in OUTCOMES) + (f"{kind}_in", f"{kind}_gap"), "batches"
    )
    title = f"Row accounting per ETL batch ({kind})"
    if batches.empty:
        return empty_figure("No ETL batch has been loaded yet.", title)
    labels, hover = batch_labels(batches), batch_hover(batches)
    layout = merged(
        base_layout(title),
        {
            "barmode": "stack",
            "hovermode": "closest",
            "xaxis": {"title": {"text": "ETL batch, in order of start"}, "type": "category"},
            "yaxis": {"title": {"text": kind.capitalize()}},
        },
    )
    fig = traces.figure(layout=layout)
    for outcome, name, colour in OUTCOMES:
        fig.add_trace(
            traces.bar(
                x=labels,
                y=whole_or_gap(batches[f"{kind}_{outcome}"]),
                name=name,
                marker_color=colour,
                customdata=hover,
                hovertemplate="%{customdata}<br>" + name + ": %{y:,d}<extra></extra>",
            )
        )
    gaps = whole_or_gap(batches[f"{kind}_gap"])
    fig.add_trace(
        traces.scatter(
            x=labels,
            y=whole_or_gap(batches[f"{kind}_in"]),
            name="Read (in)",
            mode="markers",
            marker={"color": IN_COLOUR, "symbol": "diamond", "size": 9, "line": {"color": "white", "width": 1}},
            customdata=[[h, g] for h, g in zip(hover, gaps)],
            hovertemplate="%{customdata[0]}<br>Read: %{y:,d} · gap %{customdata[1]:,d}<extra></extra>",
        )
    )
    return fig


def quarantine_over_time_figure(reasons: pd.DataFrame) -> go.Figure:
    """Quarantined records per batch, stacked by reason.

    `reasons` is the `operations_quarantine_reasons` frame: every batch in order of start (a batch
    without quarantine has one row with an empty reason), so every batch keeps its place.
    """
    _require(reasons, ("batch_id", "source_kind", "source", "started_at", "reason", "records"), "quarantine reasons")
    title = "Quarantined records per ETL batch, by reason"
    if reasons.empty:
        return empty_figure("No ETL batch has been loaded yet.", title)
    batches = reasons.drop_duplicates("batch_id")
    found = reasons[reasons["reason"].notna() & (reasons["records"] > 0)]
    if found.empty:
        return empty_figure("No record has been quarantined.", title)
    labels, hover = batch_labels(batches), batch_hover(batches)
    table = found.pivot_table(
        index="batch_id", columns="reason", values="records", aggfunc="sum", fill_value=0
    ).reindex(batches["batch_id"], fill_value=0)
    order = table.sum().sort_values(ascending=False, kind="stable").index
    layout = merged(
        base_layout(title),
        {
            "barmode": "stack",
            "hovermode": "closest",
            "legend": {"orientation": "v", "y": 1, "yanchor": "top", "x": 1.02, "xanchor": "left"},
            "margin": {"r": 180},
            "xaxis": {"title": {"text": "ETL batch, in order of start"}, "type": "category"},
            "yaxis": {"title": {"text": "Records"}},
        },
    )
    fig = traces.figure(layout=layout)
    for index, reason in enumerate(order):
        fig.add_trace(
            traces.bar(
                x=labels,
                y=whole_or_gap(table[reason]),
                name=str(reason),
                marker={
                    "color": PALETTE[index % len(PALETTE)],
                    "pattern": {"shape": fill_pattern(index, len(order)), "fgcolor": "white", "solidity": 0.3},
                },
                customdata=hover,
                hovertemplate="%{customdata}<br>" + str(reason) + ": %{y:,d}<extra></extra>",
            )
        )
    return fig


def quarantine_fields_figure(fields: pd.DataFrame) -> go.Figure:
    """Quarantined records by field and reason (largest first), coloured by dataset."""
    _require(fields, ("dataset", "field", "reason", "records"), "quarantine fields")
    title = "Quarantined records by field and reason"
    if fields.empty:
        return empty_figure("No record has been quarantined.", title)
    frame = fields.sort_values(
        ["records", "dataset", "field", "reason"], ascending=[False, True, True, True], kind="stable"
    )
    if len(frame) > MAX_FIELDS:
        rest = frame.iloc[MAX_FIELDS - 1 :]
        frame = pd.concat(
            [
                frame.iloc[: MAX_FIELDS - 1],
                pd.DataFrame(
                    [
                        {
                            "dataset": "other",
                            "field": f"{len(rest)} other field/reason pairs",
                            "reason": "",
                            "records": int(rest["records"].sum()),
                        }
                    ]
                ),
            ],
            ignore_index=True,
        )
    frame = frame.assign(label=[f"{f} · {r}" if r else f for f, r in zip(frame["field"], frame["reason"])])
    layout = merged(
        base_layout(title),
        {
            "hovermode": "closest",
            "barmode": "stack",
            "margin": {"l": 260},
            # Categories top to bottom in the frame's order; the base count format and zero floor do not apply.
            "yaxis": {
                "autorange": "reversed",
                "categoryorder": "array",
                "categoryarray": list(frame["label"]),
                "tickformat": None,
                "rangemode": None,
            },
            "xaxis": {"title": {"text": "Records"}, "tickformat": ",d", "showgrid": True, "gridcolor": "#E4E7EB"},
        },
    )
    fig = traces.figure(layout=layout)
    for index, dataset in enumerate(dict.fromkeys(frame["dataset"])):
        part = frame[frame["dataset"] == dataset]
        fig.add_trace(
            traces.bar(
                y=list(part["label"]),
                x=whole_or_gap(part["records"]),
                name=str(dataset),
                orientation="h",
                marker={"color": PALETTE[index % len(PALETTE)]},
                hovertemplate="%{y}: %{x:,d} records<extra>" + str(dataset) + "</extra>",
            )
        )
    return fig


def throughput_figure(batches: pd.DataFrame) -> go.Figure:
    """Referrals read per second of batch wall time, over the batches' start times, per source kind."""
    _require(batches, (*BATCH_COLUMNS, "referrals_in", "referrals_per_second"), "batches")
    title = "ETL throughput (referrals read per second)"
    if batches.empty:
        return empty_figure("No ETL batch has been loaded yet.", title)
    layout = merged(
        base_layout(title),
        {
            "hovermode": "closest",
            "xaxis": {"title": {"text": "Batch start"}},
            "yaxis": {"title": {"text": "Referrals per second"}, "tickformat": ",.0f"},
        },
    )
    fig = traces.figure(layout=layout)
    hover = batch_hover(batches)
    frame = batches.assign(hover=hover, label=batch_labels(batches))
    for index, (kind, part) in enumerate(frame.groupby("source_kind", sort=True)):
        fig.add_trace(
            traces.scatter(
                x=[t.isoformat(sep=" ") for t in pd.to_datetime(part["started_at"])],
                y=[None if pd.isna(v) else round(float(v), 1) for v in part["referrals_per_second"]],
                name=str(kind),
                mode="lines+markers",
                line={"color": PALETTE[index % len(PALETTE)], "width": 2},
                marker={"symbol": MARKER_SYMBOLS[index % len(MARKER_SYMBOLS)], "size": 8},
                customdata=[
                    [label, h, None if pd.isna(n) else int(n), float(s)]
                    for label, h, n, s in zip(
                        part["label"], part["hover"], part["referrals_in"], part["duration_seconds"]
                    )
                ],
                hovertemplate=(
                    "%{customdata[0]} %{customdata[1]}<br>%{y:,.1f} referrals/s "
                    "(%{customdata[2]:,d} in %{customdata[3]:.2f} s)<extra></extra>"
                ),
            )
        )
    return fig
