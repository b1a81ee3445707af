"""One report run's content: a definition, a period and a scope in, a checked `Report` out.

The period is resolved against the warehouse's latest data day; the scope (the EU, a country, an agency's
country) binds every chart view through `ViewState.within`, exactly as for a signed-in user, so a country
report holds nothing another country could not see in its own. Charts are the catalogue's, rebuilt for the
period (history up to the period's end), small cells suppressed and rendered at the presets the outputs use
(`slide` for the deck, `a4-landscape` for the pages). `verify` refuses a report with any number that does
not match the warehouse or was not checked. On a hub warehouse of differentially private releases the run
covers whole months and leaves out, with one stated line per section, what the releases do not carry
(`reporting/releases.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from dashboards.catalogue import get_chart
from dashboards.exports.build import prepare
from dashboards.exports.marking import csv_bytes
from dashboards.exports.renderer import renderer
from dashboards.freshness import data_freshness
from dashboards.state import ViewState
from dashboards.titles import country_name
from grace.disclosure import min_cell
from grace.errors import GraceError
from grace.scope import Scope
from reporting.capacity import capacity_sentences
from reporting.definition import Definition, SectionDef
from reporting.figures import figure_sentence
from reporting.findings import finding_sentences
from reporting.model import ChartImage, Report, Section, Sentence, Table
from reporting.outlook import forecast_sentence, series_id_for
from reporting.period import Period, resolve_period
from reporting.published import published_comparison
from reporting.releases import (
    chart_view,
    grain_note,
    left_out,
    metric_name,
    released,
    report_grain,
    report_sources,
)
from reporting.tables import report_table
from warehouse import WarehouseReader, is_monthly

PRESETS = ("slide", "a4-landscape")  # the deck's slides; the pages of the HTML and PDF
HISTORY_DAYS = {"week": 26 * 7, "month": 2 * 366, "quarter": 3 * 366}  # what a chart shows before the period ends


class ReportCheckError(GraceError):
    """A number in a report does not match the warehouse (or could not be checked)."""


@dataclass(frozen=True)
class RunScope:
    scope: Scope
    label: str


def resolve_scope(text: str, reader: WarehouseReader) -> RunScope:
    """'EU', an ISO-3 code or 'agency:CODE' (the agency's country, looked up in `dim_agency`)."""
    if text == "EU":
        return RunScope(Scope.everything(), "EU-27")
    if text.startswith("agency:"):
        agency = text.split(":", 1)[1]
        found = reader.run("agency_country", agency=agency)
        if found.empty:
            raise GraceError(f"scope {text!r}: no agency {agency!r} in the warehouse")
        country = str(found["country_iso3"].iloc[0])
        return RunScope(Scope.of_countries([country]), f"{agency} ({country_name(country)})")
    return RunScope(Scope.of_countries([text]), country_name(text))


def report_period(definition: Definition, reader: WarehouseReader) -> Period:
    """The period a run of the definition covers, resolved against the warehouse's latest incident day (on a
    hub, the last day of its latest released month); on a hub a week becomes the month (`report_grain`)."""
    latest = reader.run("report_latest_day")["latest_day"].iloc[0]
    if latest is None or pd.isna(latest):
        raise GraceError("the warehouse holds no referrals yet: load a delivery before reporting")
    grain = report_grain(definition.grain, monthly_warehouse(reader))
    return resolve_period(grain, definition.which, pd.Timestamp(latest).date())


def monthly_warehouse(reader: WarehouseReader) -> bool:
    """True for a hub warehouse of monthly differentially private releases (`warehouse/grain.py`)."""
    with reader.cursor() as con:
        return is_monthly(con)


def build_report(
    definition: Definition, reader: WarehouseReader, now: datetime | None = None, k: int | None = None
) -> Report:
    """The report's content for the definition's period and scope (see the module docstring)."""
    k = min_cell(k if k is not None else definition.k)
    now = now or datetime.now(UTC)
    period = report_period(definition, reader)
    monthly = monthly_warehouse(reader)
    scope = resolve_scope(definition.scope, reader)
    view = ViewState(start=_history_start(period).isoformat(), end=period.end.isoformat()).within(scope.scope)
    fresh = data_freshness(reader)
    sections, run_ids = [], set()
    for section in definition.sections:
        built, run_id = _section(section, reader, view, period, scope, k, now, fresh, monthly)
        sections.append(built)
        if run_id:
            run_ids.add(run_id)
    return Report(
        name=definition.name,
        title=definition.title,
        audience=definition.audience,
        marking=definition.marking,
        period_label=period.label,
        scope_label=scope.label,
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        data_freshness=fresh,
        analytics_run=", ".join(sorted(run_ids)),
        k=k,
        sections=tuple(sections),
        sources=report_sources(definition.sources, monthly),
        kind=definition.kind,
        extras={
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "scope_code": definition.scope,
            "scope_countries": scope.scope.sql_countries,  # None: every country (an EU-27 report)
            "period_note": grain_note(definition.grain, period.grain),  # '' unless a hub turned a week into a month
        },
    )


def _history_start(period: Period) -> date:
    return period.end - timedelta(days=HISTORY_DAYS[period.grain])


def _section(
    section: SectionDef,
    reader: WarehouseReader,
    view: ViewState,
    period: Period,
    scope: RunScope,
    k: int,
    now: datetime,
    fresh: str,
    monthly: bool = False,
) -> tuple[Section, str]:
    sentences: list[Sentence] = []
    tables: list[Table] = []
    run_id = ""
    omitted: list[str] = []  # what a hub's releases do not carry, stated in one line at the section's end
    filters = {"country": list(view.country)} if view.country else {}
    with reader.cursor() as con:
        for metric in section.figures:
            if monthly and not released(metric):
                omitted.append(metric_name(metric))
                continue
            sentences.append(figure_sentence(con, metric, period, filters, scope.label, k, monthly))
        if section.findings is not None:
            found = finding_sentences(
                con,
                section.findings.limit,
                section.findings.kinds,
                section.findings.metrics,
                view.scope.sql_countries,
                k,
                window=(_history_start(period), period.end),
                monthly=monthly,
            )
            run_id = found.run_id
            sentences.extend(found.sentences)
            if found.withheld:
                sentences.append(Sentence(f"Findings withheld under the small-cell rule (k = {k}): {found.withheld}."))
            if not found.sentences and not found.withheld:
                sentences.append(Sentence("No finding of the latest analysis run applies to this scope."))
        countries = view.scope.sql_countries
        for metric in section.outlook:
            series_id = series_id_for(metric, period.grain, countries)
            if monthly and not released(metric):
                omitted.append(f"the outlook for {metric_name(metric)}")
            elif series_id is not None:
                sentences.append(forecast_sentence(con, series_id, scope.label, k))
        if section.capacity and monthly:
            omitted.append("the backlog and the referrals triaged")
        elif section.capacity:
            sentences.extend(capacity_sentences(con, period, countries, scope.label, k))
        if section.published is not None and monthly:
            omitted.append("the comparison with published yearly figures")
        elif section.published is not None:
            comparison = published_comparison(con, section.published, period, countries, scope.label, k)
            sentences.extend(comparison.sentences)
            if comparison.table is not None:
                tables.append(comparison.table)
        tables.extend(report_table(name, con, period, countries, scope.label, k, monthly) for name in section.tables)
    # (chart id, view) in the definition's order; on a hub, the charts the releases carry at their hub view
    asked = [
        (ref.chart, ViewState.from_query(ref.view) if not monthly else chart_view(get_chart(ref.chart), ref.view))
        for ref in section.charts
    ]
    omitted.extend(f"the chart {get_chart(chart).title!r}" for chart, found in asked if found is None)
    views = [(chart, found) for chart, found in asked if found is not None]
    charts = tuple(image for chart, found in views if (image := _chart(chart, found, reader, view, k, now, fresh)))
    withheld = [chart for chart, _ in views if get_chart(chart).eu_wide and not view.scope.eu_wide]
    if withheld:
        sentences.append(Sentence(f"Charts covering every country are not part of a {scope.label} report."))
    stated = left_out(omitted)
    if stated is not None:
        sentences.append(stated)
    # a section whose every part the releases lack keeps only that line: its fixed text describes absent data
    emptied = stated is not None and not (section.findings or section.tables or views or len(sentences) > 1)
    return Section(
        section.title, tuple(sentences), charts, tuple(tables), intro="" if emptied else section.text
    ), run_id


def _chart(
    chart_id: str, asked: ViewState, reader: WarehouseReader, base: ViewState, k: int, now: datetime, fresh: str
) -> ChartImage | None:
    """One catalogue chart for the run's view, at every preset (None: outside the scope)."""
    chart = get_chart(chart_id)
    if chart.eu_wide and not base.scope.eu_wide:
        return None
    state = asked.with_changes(start=asked.start or base.start, end=asked.end or base.end).within(base.scope)
    images, svgs = {}, {}
    prepared = None
    for preset in PRESETS:
        prepared = prepare(chart, reader, state, k, fresh=fresh, now=now, preset=preset)
        figure = prepared.figure()
        size = {"width": figure.layout.width, "height": figure.layout.height}
        images[preset] = renderer().render(figure, "png", scale=prepared.preset.scale, **size)
        svgs[preset] = renderer().render(figure, "svg", **size)
    assert prepared is not None
    return ChartImage(
        chart_id=chart.chart_id,
        title=prepared.marking.title,
        subtitle=prepared.marking.subtitle,
        note=prepared.marking.note,
        images=images,
        svg=svgs,
        csv=csv_bytes(prepared.suppression.csv_frame(), prepared.marking),
        suppressed_cells=int(prepared.suppression.suppressed.sum()),
        cells=len(prepared.suppression.frame),
    )


def verify(report: Report) -> int:
    """The number of checked numbers; `ReportCheckError` naming every sentence whose number does not match
    what the warehouse says now (or could not be recomputed)."""
    problems = [
        f"{section.title}: “{sentence.text}” — {number.label} is {number.shown} ({number.value:.6g}) but the "
        f"warehouse says {'nothing (no value)' if number.recomputed is None else f'{number.recomputed:.6g}'}"
        for section, sentence, number in report.numbers()
        if not number.matches
    ]
    if problems:
        raise ReportCheckError(
            f"{len(problems)} number(s) of the report do not match the warehouse:\n  " + "\n  ".join(problems)
        )
    return len(report.numbers())
