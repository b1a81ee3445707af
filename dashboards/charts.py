"""The chart registry: every chart of every page, rebuildable from a view state alone.

A chart is two pure steps: `data(reader, state) -> ChartData` (named queries or persisted
analytics results, as a tidy frame) and `figure(data, state) -> go.Figure` (a builder from
`dashboards/figures/`). Page callbacks draw charts through `render`; the export routes call
the same two steps with the small-cell rule applied in between, so an exported chart or CSV is
exactly what the page shows, minus the suppressed cells. Pages register their charts at import
time (`register_chart`), which Dash does for every page when the app is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import pandas as pd
import plotly.graph_objects as go

from dashboards.state import ViewState
from warehouse import WarehouseReader

E = TypeVar("E")


@dataclass(frozen=True)
class ChartData(Generic[E]):
    """The data behind one chart.

    `frame` is what the CSV export contains. `count_columns` hold counts that the small-cell
    rule applies to; `cell_columns` identify one cell (e.g. `ds` and `entity`) — cells that share
    all but one of them add up to a margin (a total shown or derivable), which is what
    complementary suppression protects.
    """

    frame: pd.DataFrame
    count_columns: tuple[str, ...] = ()
    cell_columns: tuple[str, ...] = ()
    subtitle: str = ""  # what exactly is drawn, e.g. "Referrals per month, by country"
    note: str = ""  # caveats shown under the chart (missing population figures, partial periods …)
    # How to interact with the chart ("Click a line to filter to it"): shown on the page only, never in an
    # export, where it would mean nothing on paper.
    hint: str = ""
    # Count columns that hold modelled counts (forecasts, interval bounds, projections): exports round them
    # to whole non-negative numbers before the small-cell rule, which then treats them as counts.
    estimate_columns: tuple[str, ...] = ()
    # What the figure needs besides the frame (the run's events, the stored forecast …), typed per chart.
    extras: E | None = None

    @property
    def page_note(self) -> str:
        """What the page prints under the chart: the caveats, then how to interact with it."""
        return " ".join(part for part in (self.note, self.hint) if part)

    def countable(self) -> ChartData:
        """This data with its estimate columns rounded to whole counts (below zero becomes zero)."""
        if not self.estimate_columns:
            return self
        frame = self.frame.copy()
        for column in self.estimate_columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").clip(lower=0).round()
        return replace(self, frame=frame)


@dataclass(frozen=True)
class Chart:
    """One chart of one page."""

    chart_id: str  # unique, letters and dashes: also the export file name
    page: str  # path of the page showing it, e.g. "/trends"
    title: str
    source: str  # source line for exports, e.g. "GRACE warehouse, daily referral rollup"
    data: Callable[[WarehouseReader, ViewState], ChartData[Any]]
    figure: Callable[[ChartData[Any], ViewState], go.Figure]
    # The chart mixes every country (ETL lineage, the EU backlog): only users who may see EU-wide
    # views get it, whatever the filters say (`grace.scope.Scope.eu_wide`).
    eu_wide: bool = False
    # What a static copy is titled before its scope: a template naming metric and grain ("Referrals per
    # {grain}"; `{metric}` is the view's metric) or a function of the view. `dashboards.titles.export_title`
    # adds the scope ("— Germany, France"); empty means `title` (the page's short card title) is used.
    headline: str | Callable[[ViewState], str] = ""
    # False: the chart reads data that a hub's differentially private releases do not carry (media clusters,
    # hash banks, files, accounts, the backlog, ETL batches): on a hub warehouse it is drawn empty with a note
    # saying so, never as zeros, and a report leaves it out (`reporting/releases.py`).
    on_hub: bool = True


_REGISTRY: dict[str, Chart] = {}


class UnknownChartError(KeyError):
    """No chart is registered under that id."""


def register_chart(chart: Chart) -> Chart:
    """Add a chart; registering the same id twice with a different definition is an error."""
    existing = _REGISTRY.get(chart.chart_id)
    if existing is not None and existing != chart:
        raise ValueError(f"chart id {chart.chart_id!r} is already registered by page {existing.page}")
    _REGISTRY[chart.chart_id] = chart
    return chart


def get_chart(chart_id: str) -> Chart:
    """The chart registered as `chart_id`."""
    try:
        return _REGISTRY[chart_id]
    except KeyError:
        raise UnknownChartError(chart_id) from None


def charts_for_page(page: str) -> list[Chart]:
    """The charts of one page, in registration order."""
    return [chart for chart in _REGISTRY.values() if chart.page == page]


def all_charts() -> list[Chart]:
    """Every registered chart, in registration order."""
    return list(_REGISTRY.values())


def chart_data(chart: Chart, reader: WarehouseReader, state: ViewState) -> ChartData:
    """The chart's data for a view, after its visibility rule: `ScopeError` when the view's scope
    may not see this chart. Pages, exports and packs all read chart data through here."""
    if chart.eu_wide:
        state.scope.require_eu_wide(f"the chart {chart.title!r}")
    return with_release_note(chart.data(reader, state), reader, chart)


NOT_ON_HUB = "Not in the agencies' differentially private releases: this hub warehouse holds no such data."


def with_release_note(data: ChartData, reader: WarehouseReader, chart: Chart | None = None) -> ChartData:
    """On a hub warehouse of differentially private releases, the chart's note starts with the marking of
    noisy figures (ε, k, suppressed cells left out), on the page and in every export; a chart whose data the
    releases do not carry (`Chart.on_hub` False) is emptied and says so instead of drawing zeros."""
    from dashboards.freshness import has_releases, release_note, release_summary

    releases = release_summary(reader)
    if not has_releases(releases):
        return data
    if chart is not None and not chart.on_hub:
        return replace(data, frame=data.frame.iloc[0:0], note=NOT_ON_HUB)
    return replace(data, note=" ".join(part for part in (release_note(releases), data.note) if part))


def render(chart: Chart, reader: WarehouseReader, state: ViewState) -> tuple[ChartData, go.Figure]:
    """Data and figure of a chart for a view, as the page shows it."""
    data = chart_data(chart, reader, state)
    return data, chart.figure(data, state)
