"""Operations & data quality page: what its callbacks compute, as plain functions of a `WarehouseReader`.

The page reads only the lineage tables (`etl_batch`, `quarantine`, `import_log`, `analytics_run`)
and the latest rollup date, through the `operations_*` named queries. Its one page-specific choice
is the record kind (`metric=referrals|files` in the URL), which decides whose row accounting and
quarantine the charts show. Lineage has no country, platform or incident period, so the global
filters do not narrow it (they stay in the URL for the other pages); a user scoped to one country
does not see it, because every batch mixes all countries.

Row accounting is checked, not just shown: per batch and in total, `in = loaded + quarantined +
duplicate` for referrals and for files, and the quarantine table must hold exactly the records the
batch reports as quarantined (nothing is lost silently).
"""

from __future__ import annotations

import json
from typing import NamedTuple

import pandas as pd
import plotly.graph_objects as go

from dashboards.charts import Chart, ChartData, register_chart, render
from dashboards.figures import empty_figure
from dashboards.figures.operations import (
    RECORD_KINDS,
    quarantine_fields_figure,
    quarantine_over_time_figure,
    row_accounting_figure,
    throughput_figure,
)
from dashboards.formatting import format_count
from dashboards.freshness import freshness_text, release_summary
from dashboards.state import ViewState, ViewStateError
from grace.errors import WarehouseError
from warehouse import WarehouseReader

PAGE = "/operations"
SOURCE = "GRACE warehouse, ETL lineage (etl_batch, quarantine)"
LIST_LIMIT = 20  # analytics runs and reference imports listed
SCOPED_MESSAGE = (
    "ETL lineage counts the records of every country together, so it is not shown to "
    "users whose access is limited to one country."
)


class AccountingCheck(NamedTuple):
    """The row-accounting verdict over all batches."""

    balanced: bool  # every batch balances and the quarantine table holds every quarantined record
    text: str  # one paragraph an operator can read aloud
    problems: list[str]  # one line per batch that does not balance


class ChartView(NamedTuple):
    """Outputs of `draw_chart`: what one chart card shows."""

    figure: go.Figure
    subtitle: str
    note: str


class LineageView(NamedTuple):
    """Outputs of `update_lineage`, in the order the page's callback declares them."""

    accounting_text: str
    accounting_ok: bool
    accounting_problems: list[str]
    batch_rows: list[dict]
    freshness_rows: list[dict]
    analytics_rows: list[dict]
    analytics_note: str
    import_rows: list[dict]
    status: str
    freshness: str  # the page header's data-freshness line


# --- state -----------------------------------------------------------------------------------


def record_kind(state: ViewState) -> str:
    """The record kind chosen in the URL (`metric=referrals|files`); anything else is an error."""
    if state.metric not in RECORD_KINDS:
        raise ViewStateError(f"metric: {state.metric!r} is not one of {', '.join(RECORD_KINDS)} on this page")
    return state.metric


def datasets_of(kind: str) -> list[str]:
    """The quarantine `dataset` values of a record kind."""
    return [kind]


# --- charts (registered: the export routes rebuild them from a URL) ----------------------------


def _batches(reader: WarehouseReader) -> pd.DataFrame:
    with reader.session() as session:
        return session.run("operations_batches")


def _accounting_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    kind = record_kind(state)
    batches = _batches(reader)
    columns = ["batch_id", "source_kind", "source", "started_at", "duration_seconds"] + [
        f"{kind}_{part}" for part in ("in", "loaded", "quarantined", "duplicate", "gap")
    ]
    return ChartData(
        frame=batches[columns],
        count_columns=tuple(f"{kind}_{part}" for part in ("in", "loaded", "quarantined", "duplicate")),
        cell_columns=("batch_id",),
        subtitle=f"{kind.capitalize()} read per batch and where they went; the diamond marks the rows read",
        note="A batch balances when the diamond sits on top of its bar: read = loaded + quarantined + duplicate.",
    )


def _quarantine_time_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    kind = record_kind(state)
    with reader.session() as session:
        reasons = session.run("operations_quarantine_reasons", datasets=datasets_of(kind))
    return ChartData(
        frame=reasons,
        count_columns=("records",),
        cell_columns=("batch_id", "reason"),
        subtitle=f"Quarantined {kind[:-1]} records per batch (in order of start), by reason",
        note="A record that broke several rules counts once per reason.",
    )


def _quarantine_fields_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    kind = record_kind(state)
    with reader.session() as session:
        fields = session.run("operations_quarantine_fields", datasets=datasets_of(kind))
    return ChartData(
        frame=fields,
        count_columns=("records",),
        cell_columns=("dataset", "field", "reason"),
        subtitle=f"Quarantined {kind[:-1]} records over all batches, by the field that failed and why",
        note="'(whole row)': the row could not be read at all (e.g. missing columns).",
    )


def _throughput_data(reader: WarehouseReader, state: ViewState) -> ChartData:
    batches = _batches(reader)
    return ChartData(
        frame=batches[
            [
                "batch_id",
                "source_kind",
                "source",
                "started_at",
                "duration_seconds",
                "referrals_in",
                "referrals_per_second",
            ]
        ],
        subtitle="Referrals read per second of batch wall time, by source kind",
        note="Wall time covers every stage of the batch (staging, validation, anonymisation, "
        "deduplication, clustering, load and rollups).",
    )


ACCOUNTING_CHART = register_chart(
    Chart(
        "operations-row-accounting",
        PAGE,
        "Row accounting per ETL batch",
        SOURCE,
        _accounting_data,
        lambda data, state: row_accounting_figure(data.frame, record_kind(state)),
        eu_wide=True,
        headline=lambda state: (
            f"{record_kind(state).capitalize()} read, loaded, quarantined and duplicate per ETL batch"
        ),
        on_hub=False,
    )
)
QUARANTINE_TIME_CHART = register_chart(
    Chart(
        "operations-quarantine-reasons",
        PAGE,
        "Quarantine reasons over time",
        SOURCE,
        _quarantine_time_data,
        lambda data, state: quarantine_over_time_figure(data.frame),
        eu_wide=True,
        headline=lambda state: f"Quarantined {record_kind(state)} per ETL batch, by reason",
        on_hub=False,
    )
)
QUARANTINE_FIELDS_CHART = register_chart(
    Chart(
        "operations-quarantine-fields",
        PAGE,
        "Quarantine by field",
        SOURCE,
        _quarantine_fields_data,
        lambda data, state: quarantine_fields_figure(data.frame),
        eu_wide=True,
        headline=lambda state: f"Quarantined {record_kind(state)} by failing field and reason",
        on_hub=False,
    )
)
THROUGHPUT_CHART = register_chart(
    Chart(
        "operations-throughput",
        PAGE,
        "ETL throughput",
        SOURCE,
        _throughput_data,
        lambda data, state: throughput_figure(data.frame),
        eu_wide=True,
        headline="ETL throughput: referrals read per second of batch time",
        on_hub=False,
    )
)
CHARTS = (ACCOUNTING_CHART, QUARANTINE_TIME_CHART, QUARANTINE_FIELDS_CHART, THROUGHPUT_CHART)


# --- row accounting ----------------------------------------------------------------------------


def check_accounting(batches: pd.DataFrame) -> AccountingCheck:
    """Check `in = loaded + quarantined + duplicate` per batch and in total, and that the
    quarantine table holds every quarantined record; say so in words."""
    if batches.empty:
        return AccountingCheck(True, "No ETL batch has been loaded yet.", [])
    problems = []
    for number, row in enumerate(batches.itertuples(index=False), start=1):  # one line per bad batch (few)
        for kind in RECORD_KINDS:
            gap = int(getattr(row, f"{kind}_gap"))
            if gap:
                problems.append(
                    f"Batch #{number} ({row.batch_id}): {abs(gap):,} {kind} "
                    f"{'unaccounted for' if gap > 0 else 'counted twice'} "
                    f"(read {int(getattr(row, f'{kind}_in')):,})."
                )
            kept, reported = int(getattr(row, f"{kind}_quarantine_records")), int(getattr(row, f"{kind}_quarantined"))
            if kept != reported:
                problems.append(
                    f"Batch #{number} ({row.batch_id}): {reported:,} {kind} reported quarantined "
                    f"but the quarantine table holds {kept:,}."
                )
    totals = batches[
        [
            f"{kind}_{part}"
            for kind in RECORD_KINDS
            for part in ("in", "loaded", "quarantined", "duplicate", "quarantine_records")
        ]
    ].sum()

    def equation(kind: str) -> str:
        return (
            f"{format_count(totals[f'{kind}_in'])} {kind} read = {format_count(totals[f'{kind}_loaded'])} loaded "
            f"+ {format_count(totals[f'{kind}_quarantined'])} quarantined "
            f"+ {format_count(totals[f'{kind}_duplicate'])} duplicate"
        )

    count = len(batches)
    batches_text = f"{count:,} batch{'es' if count != 1 else ''}"
    if problems:
        return AccountingCheck(
            False,
            f"Row accounting does NOT balance in {len(problems)} check(s) over "
            f"{batches_text}. Totals: {equation('referrals')}; {equation('files')}.",
            problems,
        )
    kept = int(totals["referrals_quarantine_records"] + totals["files_quarantine_records"])
    return AccountingCheck(
        True,
        f"✓ Row accounting balances in all {batches_text}: {equation('referrals')}; {equation('files')}. "
        f"The quarantine table holds all {kept:,} quarantined records.",
        [],
    )


# --- tables ------------------------------------------------------------------------------------


def stage_text(stage_seconds: str) -> str:
    """`{"load": 0.08, "validate": 0.14}` as `validate 0.14 s · load 0.08 s` (slowest first)."""
    try:
        stages = json.loads(stage_seconds or "{}")
    except (TypeError, ValueError):
        return str(stage_seconds)
    if not isinstance(stages, dict):
        return str(stage_seconds)
    ordered = sorted(stages.items(), key=lambda item: (-float(item[1]), item[0]))
    return " · ".join(f"{name} {float(seconds):.2f} s" for name, seconds in ordered)


def _mark(gap: int) -> str:
    return "✓" if gap == 0 else f"✗ {gap:+,}"


def batch_rows(batches: pd.DataFrame) -> list[dict]:
    """Rows of the batches table (newest first), with the balance check per record kind."""
    if batches.empty:
        return []
    table = pd.DataFrame(
        {
            "number": [f"#{n}" for n in range(1, len(batches) + 1)],
            "source_kind": batches["source_kind"],
            "source": list(batches["source"]),
            "status": batches["status"],
            "started": pd.to_datetime(batches["started_at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": batches["duration_seconds"].round(2),
            "referrals_in": batches["referrals_in"],
            "referrals_loaded": batches["referrals_loaded"],
            "referrals_quarantined": batches["referrals_quarantined"],
            "referrals_duplicate": batches["referrals_duplicate"],
            "referrals_check": [_mark(int(g)) for g in batches["referrals_gap"]],
            "files_in": batches["files_in"],
            "files_loaded": batches["files_loaded"],
            "files_quarantined": batches["files_quarantined"],
            "files_duplicate": batches["files_duplicate"],
            "files_check": [_mark(int(g)) for g in batches["files_gap"]],
            "throughput": batches["referrals_per_second"].round(0),
            "stages": [stage_text(s) for s in batches["stage_seconds"]],
            "batch_id": batches["batch_id"],
        }
    )
    return table.iloc[::-1].astype(object).where(table.iloc[::-1].notna(), None).to_dict("records")


def freshness_rows(freshness: pd.DataFrame) -> list[dict]:
    """Rows of the freshness table: one per source kind."""
    rows = []
    for row in freshness.itertuples(index=False):
        rows.append(
            {
                "source_kind": row.source_kind,
                "batches": int(row.batches),
                "referrals_loaded": int(row.referrals_loaded),
                "files_loaded": int(row.files_loaded),
                "last_batch": pd.Timestamp(row.last_batch_finished_at).strftime("%Y-%m-%d %H:%M UTC"),
                "last_status": row.last_batch_status,
                "watermark": row.last_watermark if isinstance(row.last_watermark, str) else "–",
                "latest_incident": (
                    pd.Timestamp(row.latest_incident_date).strftime("%Y-%m-%d")
                    if not pd.isna(row.latest_incident_date)
                    else "–"
                ),
            }
        )
    return rows


def analytics_rows(runs: pd.DataFrame) -> list[dict]:
    """Rows of the analytics-runs table (newest first)."""
    return [
        {
            "run_id": row.run_id,
            "created": pd.Timestamp(row.created_at).strftime("%Y-%m-%d %H:%M UTC"),
            "series": int(row.series_count),
            "skipped": int(row.skipped_count),
            "seconds": round(float(row.seconds), 1),
            "code_version": row.code_version,
        }
        for row in runs.itertuples(index=False)
    ]


def import_rows(imports: pd.DataFrame) -> list[dict]:
    """Rows of the reference-imports table (newest first)."""
    return [
        {
            "import_id": row.import_id,
            "dataset": row.dataset,
            "source": row.source,
            "rows_loaded": int(row.rows_loaded),
            "imported": pd.Timestamp(row.imported_at).strftime("%Y-%m-%d %H:%M UTC"),
        }
        for row in imports.itertuples(index=False)
    ]


# --- the page's updates (one callback per chart, one for the tables) -------------------------


def draw_chart(chart: Chart, reader: WarehouseReader, state: ViewState) -> ChartView:
    """One chart of the page for a view state, or a figure saying why it cannot be drawn.

    Lineage mixes all countries: a user whose scope is limited to some gets no chart.
    """
    if not state.scope.eu_wide:
        return ChartView(empty_figure("Not shown to users limited to one country."), "", SCOPED_MESSAGE)
    try:
        data, figure = render(chart, reader, state)
    except (WarehouseError, ViewStateError) as error:
        return ChartView(empty_figure("Not available: see the message above."), "", str(error))
    return ChartView(figure, data.subtitle, data.page_note)


def update_lineage(reader: WarehouseReader, state: ViewState) -> LineageView:
    """The accounting verdict and the tables (batches, freshness, analytics runs, imports); none of
    them for a user whose scope is limited to some countries (lineage mixes them all)."""
    if not state.scope.eu_wide:
        return unavailable(SCOPED_MESSAGE)
    try:
        record_kind(state)
        with reader.session() as session:
            batches = session.run("operations_batches")
            freshness = session.run("operations_freshness")
            runs = session.run("operations_analytics_runs", limit=LIST_LIMIT)
            imports = session.run("operations_imports", limit=LIST_LIMIT)
            latest = session.run("data_freshness")
            releases = release_summary(session)
    except (WarehouseError, ViewStateError) as error:
        prefix = "Invalid view" if isinstance(error, ViewStateError) else "Warehouse unavailable"
        return unavailable(f"{prefix}: {error}")
    check = check_accounting(batches)
    return LineageView(
        accounting_text=check.text,
        accounting_ok=check.balanced,
        accounting_problems=check.problems,
        batch_rows=batch_rows(batches),
        freshness_rows=freshness_rows(freshness),
        analytics_rows=analytics_rows(runs),
        analytics_note="" if not runs.empty else "No `grace analyse` run is stored in this warehouse yet.",
        import_rows=import_rows(imports),
        status="",
        freshness=freshness_text(latest, releases),
    )


def unavailable(reason: str) -> LineageView:
    """What the tables show when lineage cannot be shown (warehouse unreadable, invalid view, scope)."""
    return LineageView("", False, [], [], [], [], "", [], reason, "")
