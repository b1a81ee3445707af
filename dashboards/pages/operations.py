"""Operations & data quality (`/operations`): ETL batches, row accounting, quarantine, freshness, throughput.

For data officers: did every batch load, does every row add up (read = loaded + quarantined +
duplicate), why were records quarantined, how fresh is each source, how fast is the ETL, which
analytics runs and reference imports exist, and on a hub which differentially private releases were merged
(`dashboards.callbacks.dp_releases`). The one control is the record kind (referrals or
files, `?metric=files` in the URL). Lineage has no country or platform, so there is no filter bar;
the global filters stay in the URL for the other pages. Logic: `dashboards.callbacks.operations`.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.dash_table.DataTable import DataTable

from dashboards import ids
from dashboards.auth.context import current_scope
from dashboards.callbacks import operations as logic
from dashboards.callbacks import reports as report_logic
from dashboards.callbacks.dp_releases import COLUMNS as RELEASE_COLUMNS
from dashboards.callbacks.dp_releases import releases_view
from dashboards.callbacks.federation_status import federation_view
from dashboards.components import (
    alert,
    aria,
    chart_card,
    freshness_id,
    invalid_view,
    page_header,
    radio_field,
    rows_table,
    section_card,
)
from dashboards.figures import FONT_FAMILY
from dashboards.readers import desk_of, reader_of
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import chart_outputs, record_view, scope_state
from grace.errors import WarehouseError

PAGE = "operations"
dash.register_page(
    __name__, path=logic.PAGE, name="Operations", title="Operations & data quality · GRACE Trends", order=6
)

ANALYTICS_NOTE = f"{ids.OPERATIONS_ANALYTICS_TABLE}-note"
KIND_LABELS = {"referrals": "Referrals", "files": "Files"}
BATCH_COLUMNS = [
    ("number", "#"),
    ("source_kind", "Source kind"),
    ("source", "Delivery"),
    ("status", "Status"),
    ("started", "Started (UTC)"),
    ("duration", "Seconds"),
    ("referrals_in", "Referrals in"),
    ("referrals_loaded", "loaded"),
    ("referrals_quarantined", "quarantined"),
    ("referrals_duplicate", "duplicate"),
    ("referrals_check", "balance"),
    ("files_in", "Files in"),
    ("files_loaded", "loaded"),
    ("files_quarantined", "quarantined"),
    ("files_duplicate", "duplicate"),
    ("files_check", "balance"),
    ("throughput", "Referrals/s"),
    ("stages", "Stage seconds"),
    ("batch_id", "Batch id"),
]
NUMERIC = {
    "duration",
    "referrals_in",
    "referrals_loaded",
    "referrals_quarantined",
    "referrals_duplicate",
    "files_in",
    "files_loaded",
    "files_quarantined",
    "files_duplicate",
    "throughput",
}
FRESHNESS_COLUMNS = [
    ("source_kind", "Source kind"),
    ("batches", "Batches"),
    ("referrals_loaded", "Referrals loaded"),
    ("files_loaded", "Files loaded"),
    ("last_batch", "Last batch"),
    ("last_status", "Status"),
    ("watermark", "Watermark"),
    ("latest_incident", "Latest incident (warehouse)"),
]
ANALYTICS_COLUMNS = [
    ("run_id", "Run"),
    ("created", "Created"),
    ("series", "Series"),
    ("skipped", "Skipped"),
    ("seconds", "Seconds"),
    ("code_version", "Code version"),
]
REPORT_FAILURE_COLUMNS = (
    ("schedule", "Schedule"),
    ("fire_time", "Due (UTC)"),
    ("attempts", "Attempts"),
    ("finished", "Last attempt (UTC)"),
    ("error", "Error"),
)
IMPORT_COLUMNS = [
    ("import_id", "Import"),
    ("dataset", "Dataset"),
    ("source", "File"),
    ("rows_loaded", "Rows"),
    ("imported", "Imported"),
]


def table(table_id: str, columns: list[tuple[str, str]], page_size: int = 10) -> DataTable:
    """A sortable, paged table (rows filled by a callback); failing balance checks are highlighted."""
    specs: list[DataTable.Columns] = []
    for key, name in columns:
        spec: DataTable.Columns = {
            "id": key,
            "name": name,
            "type": "numeric"
            if key in NUMERIC or key in ("batches", "series", "skipped", "seconds", "rows_loaded")
            else "text",
        }
        if key in NUMERIC:
            spec["format"] = {"specifier": ",~r"}
        specs.append(spec)
    return DataTable(
        id=table_id,
        data=[],
        page_size=page_size,
        sort_action="native",
        columns=specs,
        style_table={"overflowX": "auto"},
        style_cell={
            "fontFamily": FONT_FAMILY,
            "fontSize": "0.85rem",
            "padding": "4px 8px",
            "textAlign": "left",
            "whiteSpace": "nowrap",
            "height": "auto",
        },
        style_cell_conditional=[{"if": {"column_id": "stages"}, "whiteSpace": "normal", "minWidth": "22rem"}],
        style_header={"fontWeight": "600", "backgroundColor": "#F5F7FA"},
        style_data_conditional=[{"if": {"column_id": column}, "textAlign": "right"} for column in NUMERIC]
        + [
            {
                "if": {"filter_query": f'{{{column}}} contains "✗"', "column_id": column},
                "backgroundColor": "#FBE3D6",
                "color": "#8A2B00",
                "fontWeight": "600",
            }
            for column in ("referrals_check", "files_check")
        ],
    )


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        state = ViewState.from_query(kwargs)
        kind = logic.record_kind(state)
    except ViewStateError as error:
        return invalid_view(logic.PAGE, error)
    kind_control = radio_field(
        "Records",
        ids.OPERATIONS_KIND,
        kind,
        KIND_LABELS,
        help_text="Whose row accounting and quarantine the charts show.",
    )
    return html.Div(
        [
            page_header(
                PAGE,
                "Operations & data quality",
                "ETL batches and their row accounting, quarantine, freshness and throughput.",
            ),
            html.Div([kind_control], className="filters", role="group", **aria(label="Page controls")),
            dcc.Store(id=ids.OPERATIONS_STATE, data=state.to_query()),
            html.Div(id=ids.OPERATIONS_STATUS, className="status-area", role="status"),
            html.Div(id=ids.OPERATIONS_ACCOUNTING, role="status", **aria(live="polite")),
            chart_card(logic.ACCOUNTING_CHART, height=420),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.QUARANTINE_TIME_CHART, height=400), lg=6),
                    dbc.Col(chart_card(logic.QUARANTINE_FIELDS_CHART, height=400), lg=6),
                ],
                className="g-3",
            ),
            chart_card(logic.THROUGHPUT_CHART, height=360),
            section_card(
                "ETL batches",
                table(ids.OPERATIONS_BATCH_TABLE, BATCH_COLUMNS, page_size=15),
                subtitle="Newest first. Balance: read − (loaded + quarantined + duplicate); ✓ when zero.",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section_card(
                            "Data freshness per source",
                            table(ids.OPERATIONS_FRESHNESS_TABLE, FRESHNESS_COLUMNS),
                            subtitle="The latest incident date is the warehouse's (rollups carry no source).",
                        ),
                        lg=12,
                    ),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section_card(
                            "Analytics runs",
                            html.Div(
                                [
                                    html.P(id=ANALYTICS_NOTE, className="chart-card__note"),
                                    table(ids.OPERATIONS_ANALYTICS_TABLE, ANALYTICS_COLUMNS),
                                ]
                            ),
                            subtitle="Stored `grace analyse` runs, newest first.",
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        section_card(
                            "Reference imports",
                            table(ids.OPERATIONS_IMPORTS_TABLE, IMPORT_COLUMNS),
                            subtitle="Hash sets and published statistics, newest first.",
                        ),
                        lg=6,
                    ),
                ],
                className="g-3",
            ),
            section_card(
                "Differentially private releases (hub)",
                html.Div("Loading…", id=ids.OPERATIONS_DP_RELEASES),
                subtitle="Agencies' monthly releases merged by `grace federation hub merge`: ε, k, suppressed cells, "
                "the file's checksum and when it was received.",
            ),
            section_card(
                "Federated training (hub)",
                html.Div("Loading…", id=ids.OPERATIONS_FEDERATION),
                subtitle="The latest `grace federation train` run on this hub, round by round: sizes, times and the "
                "global model's evaluation, never data.",
            ),
            section_card(
                "Scheduled reports that failed",
                html.Div("Loading…", id=ids.OPERATIONS_REPORT_FAILURES),
                subtitle="Runs that failed every attempt (three), newest first, within your scope; "
                "`grace reports schedule list` shows every run.",
            ),
        ],
        id=ids.OPERATIONS_PAGE,
        className="operations",
    )


def _state(query) -> ViewState:
    return scope_state(ViewState.from_query(query or ""))


@callback(
    Output(ids.OPERATIONS_STATE, "data"),
    Output(ids.URL_SYNC, "search", allow_duplicate=True),
    Input(ids.OPERATIONS_KIND, "value"),
    State(ids.OPERATIONS_STATE, "data"),
    prevent_initial_call=True,
)
def _sync_state(kind, query):
    """The record kind into the page's state and the address bar (other filters kept as they are)."""
    try:
        state = ViewState.from_query(query or "").with_changes(metric=kind or "referrals")
        logic.record_kind(state)
    except ViewStateError:
        return dash.no_update, dash.no_update
    record_view(logic.PAGE, state.to_query())
    return state.to_query(), state.to_query()


def _register_draw(chart) -> None:
    @callback(*chart_outputs(chart), Input(ids.OPERATIONS_STATE, "data"))
    def _draw(query):
        return tuple(logic.draw_chart(chart, reader_of(dash.get_app()), _state(query)))


for _chart in logic.CHARTS:
    _register_draw(_chart)


@callback(
    Output(ids.OPERATIONS_ACCOUNTING, "children"),
    Output(ids.OPERATIONS_BATCH_TABLE, "data"),
    Output(ids.OPERATIONS_FRESHNESS_TABLE, "data"),
    Output(ids.OPERATIONS_ANALYTICS_TABLE, "data"),
    Output(ANALYTICS_NOTE, "children"),
    Output(ids.OPERATIONS_IMPORTS_TABLE, "data"),
    Output(ids.OPERATIONS_STATUS, "children"),
    Output(freshness_id(PAGE), "children"),
    Input(ids.OPERATIONS_STATE, "data"),
)
def _lineage(query):
    view = logic.update_lineage(reader_of(dash.get_app()), _state(query))
    verdict = None
    if view.accounting_text:
        body = [view.accounting_text] + (
            [html.Ul([html.Li(p) for p in view.accounting_problems])] if view.accounting_problems else []
        )
        verdict = alert(
            body,
            color="success" if view.accounting_ok else "danger",
            title="Row accounting." if view.accounting_ok else "Row accounting failed.",
        )
    status = alert(view.status, color="warning") if view.status else None
    return (
        verdict,
        view.batch_rows,
        view.freshness_rows,
        view.analytics_rows,
        view.analytics_note,
        view.import_rows,
        status,
        view.freshness,
    )


@callback(Output(ids.OPERATIONS_REPORT_FAILURES, "children"), Input(ids.OPERATIONS_STATE, "data"))
def _report_failures(_query):
    """Scheduled report runs that failed for good (the report desk's schedule store), scoped to the user."""
    rows = report_logic.failure_rows(desk_of(dash.get_app()), current_scope())
    if not rows:
        return html.P("None: every scheduled report run so far succeeded (or is still being retried).")
    return rows_table(
        rows, REPORT_FAILURE_COLUMNS, f"{len(rows)} failed run(s)", f"{ids.OPERATIONS_REPORT_FAILURES}-rows"
    )


@callback(Output(ids.OPERATIONS_DP_RELEASES, "children"), Input(ids.OPERATIONS_STATE, "data"))
def _dp_releases(_query):
    """The hub warehouse's merged releases (EU-wide users only)."""
    try:
        view = releases_view(reader_of(dash.get_app()), current_scope())
    except WarehouseError as error:
        return html.P(f"Warehouse unavailable: {error}")
    if not view.rows:
        return html.P(view.summary)
    return html.Div(
        [html.P(view.summary), rows_table(view.rows, RELEASE_COLUMNS, "", f"{ids.OPERATIONS_DP_RELEASES}-rows")]
    )


FEDERATION_COLUMNS = (
    ("round", "Round"),
    ("nodes", "Nodes"),
    ("agencies", "Agencies"),
    ("kib", "KiB"),
    ("seconds", "Seconds"),
    ("auc", "AUC"),
    ("macro_f1", "Macro-F1"),
)


@callback(Output(ids.OPERATIONS_FEDERATION, "children"), Input(ids.OPERATIONS_STATE, "data"))
def _federation(_query):
    """The hub's latest federated run (EU-wide users only), from its observability file."""
    view = federation_view(current_scope())
    if not view.rows:
        return html.P(view.summary)
    return html.Div(
        [
            html.P(view.summary),
            rows_table(view.rows, FEDERATION_COLUMNS, "", f"{ids.OPERATIONS_FEDERATION}-rows"),
        ]
    )
