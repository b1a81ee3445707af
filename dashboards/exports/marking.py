"""The marking every exported chart carries, inside the image and at the head of the CSV.

An exported chart leaves the dashboard on its own (in a note, a slide deck), so it must say what
it is and how it may be handled without the page around it: title and subtitle, a source line,
the filters applied, how fresh the data is, the small-cell rule used (k) and the classification
marking. In images the lines are figure annotations in enlarged margins, so they are part of the
PNG/SVG/PDF itself; in a CSV they are `#` comment lines before the header row.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

CLASSIFICATION = "RESTRICTED — law-enforcement use only"
EXPORT_WIDTH = 1200
EXPORT_HEIGHT = 780
_LINE_PX = 18
_TOP_PX = 112
_MARK_COLOUR = "#8A1C1C"
_MUTED = "#52606D"


@dataclass(frozen=True)
class Marking:
    """What an exported chart says about itself."""

    title: str
    subtitle: str
    source: str
    filters: str
    freshness: str
    rule: str  # the small-cell note, naming k
    generated_at: str  # ISO UTC timestamp
    note: str = ""
    classification: str = CLASSIFICATION

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) pairs in the order they are printed."""
        pairs = [
            ("Classification", self.classification),
            ("Chart", self.title),
            ("Subtitle", self.subtitle),
            ("Source", self.source),
            ("Filters", self.filters),
            ("Data", self.freshness),
            ("Disclosure control", self.rule),
            ("Note", self.note),
            ("Generated", self.generated_at),
        ]
        return [(label, text) for label, text in pairs if text]


def marked_figure(figure: go.Figure, marking: Marking) -> go.Figure:
    """A copy of `figure` sized for export, with the marking drawn in its margins."""
    fig = go.Figure(figure)  # a deep copy
    footer = [
        f"Source: {marking.source}",
        f"Filters: {marking.filters}",
        f"Data: {marking.freshness}",
        marking.rule,
    ]
    if marking.note:
        footer.append(f"Note: {marking.note}")
    footer.append(f"Exported {marking.generated_at} · {marking.classification}")
    bottom = 64 + _LINE_PX * len(footer)
    margin = fig.layout.margin
    fig.update_layout(
        width=EXPORT_WIDTH,
        height=EXPORT_HEIGHT + _LINE_PX * len(footer),
        margin={
            "t": _TOP_PX,
            "b": bottom,
            "l": margin.l if margin.l is not None else 64,
            "r": margin.r if margin.r is not None else 24,
        },
        title={
            "text": f"<b>{_text(marking.title)}</b>",
            "x": 0,
            "xanchor": "left",
            "y": 1 - 42 / EXPORT_HEIGHT,
            "yanchor": "top",
            "yref": "container",
        },
    )
    if marking.subtitle:
        fig.update_layout(
            title_subtitle_text=_text(marking.subtitle), title_subtitle_font={"size": 12, "color": _MUTED}
        )
    fig.add_annotation(
        text=f"<b>{_text(marking.classification)}</b>",
        xref="paper",
        yref="paper",
        x=0.5,
        y=1,
        xanchor="center",
        yanchor="bottom",
        yshift=_TOP_PX - 26,
        showarrow=False,
        font={"size": 13, "color": _MARK_COLOUR},
    )
    for index, line in enumerate(footer):
        fig.add_annotation(
            text=_text(line),
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            xanchor="left",
            yanchor="top",
            yshift=-(48 + _LINE_PX * index),
            showarrow=False,
            align="left",
            font={"size": 11, "color": _MARK_COLOUR if index == len(footer) - 1 else _MUTED},
        )
    return fig


def csv_bytes(frame: pd.DataFrame, marking: Marking) -> bytes:
    """The CSV of an exported chart: `# label: text` lines, then the (suppressed) data, with text cells
    that a spreadsheet would run as a formula neutralised (`without_formulas`)."""
    head = "".join(f"# {label}: {_one_line(text)}\n" for label, text in marking.lines())
    return (head + without_formulas(frame).to_csv(index=False, lineterminator="\n")).encode("utf-8")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def without_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell that starts like a spreadsheet formula (`=`, `+`, `-`, `@`, tab, carriage
    return) prefixed with a single quote, as OWASP recommends against CSV injection: a platform name such as
    `=HYPERLINK(…)` opens as text. Numbers (a negative change, say) are left as they are."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        risky = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if risky.any():
            out[column] = values.where(~risky, "'" + values.astype(str))
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _text(text: str) -> str:
    """Plain text for plotly's HTML-ish labels (so a filter value cannot inject markup)."""
    return html.escape(_one_line(text), quote=False)
