"""Rebuild a registered chart for a view, apply the small-cell rule, mark it and serialise it.

The same two steps the page runs (`chart.data`, `chart.figure`, see `dashboards/charts.py`) with
`grace.disclosure.suppress` in between, so an export is what the page shows minus the small
cells: suppressed counts are gaps in the figure and the marker in the CSV. A briefing pack is
every chart of one page in every format, plus a manifest, as one ZIP.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import plotly.graph_objects as go

from dashboards.catalogue import all_charts, charts_for_page
from dashboards.charts import Chart, ChartData, chart_data
from dashboards.exports.marking import CLASSIFICATION, Marking, csv_bytes
from dashboards.exports.presets import Preset, preset_named
from dashboards.exports.renderer import FORMATS, ExportRenderer, renderer
from dashboards.exports.static import static_figure
from dashboards.figures import ALL_SUPPRESSED, empty_figure
from dashboards.freshness import data_freshness
from dashboards.state import ViewState
from dashboards.titles import export_title
from grace.disclosure import Suppression, min_cell, no_counts, suppress
from warehouse import WarehouseReader

CONTENT_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
EXPORT_FORMATS = (*FORMATS, "csv")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UnknownPageError(KeyError):
    """No registered chart belongs to that page."""


@dataclass(frozen=True)
class ExportFile:
    """One file to send: its name, content type and bytes."""

    filename: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class PreparedChart:
    """A chart rebuilt for a view with the small-cell rule applied, ready to serialise."""

    chart: Chart
    data: ChartData  # suppressed
    suppression: Suppression
    marking: Marking
    state: ViewState
    preset: Preset

    def figure(self) -> go.Figure:
        """The chart's static figure for the preset, built from the suppressed data, marking drawn in (a
        chart whose every count is hidden says so rather than drawing empty axes)."""
        if self.suppression.reveals_nothing:
            drawn = empty_figure(ALL_SUPPRESSED)
        else:
            drawn = self.chart.figure(self.data, self.state)
        return static_figure(drawn, self.marking, self.preset)


def page_slug(page_path: str) -> str:
    """'/' → 'overview', '/trends' → 'trends': the name a page's briefing pack is requested by."""
    return page_path.strip("/").replace("/", "-") or "overview"


def page_of_slug(slug: str) -> str:
    """The page path whose charts form the pack `slug`."""
    for chart in all_charts():
        if page_slug(chart.page) == slug:
            return chart.page
    raise UnknownPageError(slug)


def prepare(
    chart: Chart,
    reader: WarehouseReader,
    state: ViewState,
    k: int | None = None,
    fresh: str | None = None,
    now: datetime | None = None,
    preset: Preset | str | None = None,
) -> PreparedChart:
    """Data → small-cell rule → figure → marking, for one chart and one view (images laid out for
    `preset`, a `Preset` or its name; default: the slide)."""
    k = min_cell(k)
    raw = chart_data(chart, reader, state).countable()
    # A chart declaring no count columns (ETL timings, ratios of batches) has nothing to protect.
    suppression = (
        suppress(raw.frame, raw.count_columns, raw.cell_columns, k=k) if raw.count_columns else no_counts(raw.frame, k)
    )
    data = replace(raw, frame=suppression.frame)
    marking = Marking(
        title=export_title(chart, state),
        subtitle=export_subtitle(raw.subtitle, state),
        source=chart.source,
        filters=state.filters_text(),
        freshness=fresh if fresh is not None else data_freshness(reader),
        rule=suppression.note,
        rule_in_brief=suppression.short_note,
        note=raw.note,
        generated_at=_stamp(now),
    )
    chosen = preset if isinstance(preset, Preset) else preset_named(preset)
    return PreparedChart(chart, data, suppression, marking, state, chosen)


def export_subtitle(described: str, state: ViewState) -> str:
    """What is drawn and the filters, once: the chart's own subtitle, plus the filters unless it names them."""
    filters = state.filters_text()
    return described if filters in described else " · ".join(part for part in (described, filters) if part)


def serialise(
    prepared: PreparedChart,
    fmt: str,
    state: ViewState,
    service: ExportRenderer | None = None,
    figure: go.Figure | None = None,
) -> ExportFile:
    """One format of a prepared chart (`figure`: its marked figure, when already built)."""
    if fmt == "csv":
        body = csv_bytes(prepared.suppression.csv_frame(), prepared.marking)
    elif fmt in FORMATS:
        figure = figure or prepared.figure()
        body = (service or renderer()).render(
            figure,
            fmt,
            width=figure.layout.width,
            height=figure.layout.height,
            scale=prepared.preset.scale if fmt == "png" else 1.0,  # SVG and PDF at the page's real size
        )
    else:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    preset = prepared.preset.name if fmt in FORMATS else ""
    return ExportFile(
        export_filename(prepared.chart.chart_id, state, fmt, prepared.marking.generated_at, preset),
        CONTENT_TYPES[fmt],
        body,
    )


def export_chart(
    chart: Chart,
    reader: WarehouseReader,
    state: ViewState,
    fmt: str,
    k: int | None = None,
    service: ExportRenderer | None = None,
    preset: Preset | str | None = None,
) -> ExportFile:
    """One chart of one view in one format (png, svg, pdf or csv) for a preset, small cells suppressed."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    return serialise(prepare(chart, reader, state, k, preset=preset), fmt, state, service)


def briefing_pack(
    page_path: str,
    reader: WarehouseReader,
    state: ViewState,
    k: int | None = None,
    service: ExportRenderer | None = None,
    preset: Preset | str | None = None,
) -> ExportFile:
    """Every chart of a page in PNG, SVG, PDF and CSV laid out for one preset, with README.txt and
    manifest.json, as a ZIP."""
    charts = charts_for_page(page_path)
    if not charts:
        raise UnknownPageError(page_path)
    withheld = [chart for chart in charts if chart.eu_wide and not state.scope.eu_wide]
    charts = [chart for chart in charts if chart not in withheld]
    if not charts:  # every chart of the page mixes all countries
        state.scope.require_eu_wide(f"every chart of the page {page_path}")
    k = min_cell(k)
    chosen = preset if isinstance(preset, Preset) else preset_named(preset)
    now = datetime.now(UTC)
    fresh = data_freshness(reader)
    slug = page_slug(page_path)
    buffer = io.BytesIO()
    entries = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for chart in charts:
            prepared = prepare(chart, reader, state, k, fresh=fresh, now=now, preset=chosen)
            files = []
            figure = prepared.figure()  # built once for the three image formats
            for fmt in EXPORT_FORMATS:
                exported = serialise(prepared, fmt, state, service, figure=figure)
                archive.writestr(exported.filename, exported.body)
                files.append(exported.filename)
            entries.append(
                {
                    "chart_id": chart.chart_id,
                    "title": prepared.marking.title,
                    "subtitle": prepared.marking.subtitle,
                    "source": chart.source,
                    "files": files,
                    "cells": len(prepared.suppression.frame),
                    "suppressed_cells": int(prepared.suppression.suppressed.sum()),
                }
            )
        manifest = {
            "classification": CLASSIFICATION,
            "page": page_path,
            "query": state.to_query(),
            "filters": state.filters_text(),
            "data_freshness": fresh,
            "k": k,
            "preset": {"name": chosen.name, "label": chosen.label, "png_size": list(chosen.png_size)},
            "generated_at": _stamp(now),
            "charts": entries,
            "withheld": [
                {
                    "chart_id": chart.chart_id,
                    "title": chart.title,
                    "reason": "covers every country; outside the user's scope",
                }
                for chart in withheld
            ],
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr("README.txt", _readme(manifest))
    filename = f"grace-briefing-{slug}_{_stamp(now)[:10]}.zip"
    return ExportFile(_safe(filename), CONTENT_TYPES["zip"], buffer.getvalue())


def export_filename(chart_id: str, state: ViewState, fmt: str, generated_at: str, preset: str = "") -> str:
    """'overview-monthly-referrals_DEU-FRA_2024-01-01-to-latest_2026-11-25_slide.png' — only safe characters
    (images name their preset; a CSV has none)."""
    parts = [chart_id]
    if state.country:
        parts.append("-".join(state.country[:4]) + ("-etc" if len(state.country) > 4 else ""))
    if state.start or state.end:
        parts.append(f"{state.start or 'first'}-to-{state.end or 'latest'}")
    parts.append(generated_at[:10])
    if preset:
        parts.append(preset)
    return _safe("_".join(parts) + f".{fmt}")


def _safe(name: str) -> str:
    return _UNSAFE.sub("-", name).strip("-.")[:180] or "export"


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _readme(manifest: dict) -> str:
    lines = [
        manifest["classification"],
        "",
        f"GRACE Trends briefing pack — page {manifest['page']}",
        f"Filters: {manifest['filters']}",
        f"Data: {manifest['data_freshness']}",
        f"Small-cell rule: counts from 1 to {manifest['k'] - 1} are suppressed (k={manifest['k']}), with "
        "complementary suppression so totals cannot reveal them; suppressed cells are gaps in the "
        "images and 'suppressed' in the CSV files. Zero counts are shown.",
        f"Generated: {manifest['generated_at']}",
        f"Images laid out for: {manifest['preset']['label']} (PNG {manifest['preset']['png_size'][0]} × "
        f"{manifest['preset']['png_size'][1]} px)",
        "",
        "Charts (PNG, SVG, PDF and CSV each):",
    ]
    lines += [
        f"- {entry['title']} ({entry['chart_id']}): {entry['suppressed_cells']} of {entry['cells']} cells suppressed"
        for entry in manifest["charts"]
    ]
    if manifest["withheld"]:
        lines += ["", "Not included (they cover every country, outside the scope of the user who exported):"]
        lines += [f"- {entry['title']} ({entry['chart_id']})" for entry in manifest["withheld"]]
    return "\n".join(lines) + "\n"
