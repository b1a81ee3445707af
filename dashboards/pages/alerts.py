"""Alerts (`/alerts`): the latest run's anomalies, change points and emerging / vanishing entities, and
its ranked narrative findings, in sortable, filterable tables; clicking a row draws that series with
the alert ringed, and links to it in the Trend explorer.

Filters: the global country / platform / period, what to show (needs attention, new since the previous
run, all, reviewed by me), the alert kinds, the metrics, and the order (importance, date, magnitude) — all
in the URL (`?kind=anomaly&metrics=files&sort=date&show=all`), with the selected row (`series`, `at`).
Analysts tick rows and acknowledge, dismiss or reopen them (per user, audited). Logic: `dashboards.callbacks.alerts`; the callbacks here only adapt.
"""

from __future__ import annotations

from dataclasses import replace

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.dash_table.DataTable import DataTable

from analytics.warehouse_series import METRICS
from dashboards import ids
from dashboards.auth.context import audit_refusal, current_user, review_alerts, reviewed_alerts
from dashboards.auth.reviews import ReviewError
from dashboards.callbacks import alerts as logic
from dashboards.components import (
    chart_card,
    filter_bar,
    filter_field,
    invalid_view,
    page_header,
    radio_field,
    section_card,
    status_area,
)
from dashboards.figures import empty_figure
from dashboards.readers import reader_of
from dashboards.state import ViewStateError
from dashboards.wiring import (
    chart_outputs,
    filter_inputs,
    record_view,
    register_filter_bar,
    scope_state,
    state_from_filters,
)
from grace.scope import ScopeError
from grace.vocabulary import metric_title

PAGE = "alerts"
dash.register_page(__name__, path=logic.PAGE_PATH, name="Alerts", title="Alerts · GRACE Trends", order=3)
register_filter_bar(PAGE)

SORT_LABELS = {"importance": "Importance", "date": "Newest first", "magnitude": "Largest change"}
NUMERIC = ("before", "after", "relative", "strength", "importance", "rank", "score")
ALERT_COLUMNS = [
    ("new", "New"),
    ("review", "Reviewed"),
    ("kind", "Kind"),
    ("period", "Period"),
    ("metric", "Metric"),
    ("series", "Series"),
    ("direction", "Direction"),
    ("before", "Before / expected"),
    ("after", "After / observed"),
    ("relative", "Change"),
    ("strength", "Strength"),
    ("importance", "Importance"),
    ("headline", "Finding"),
    ("open", "Chart"),
]
FINDING_COLUMNS = [
    ("rank", "#"),
    ("kind", "Kind"),
    ("headline", "Finding"),
    ("metric", "Metric"),
    ("series", "Series"),
    ("period", "Period"),
    ("score", "Score"),
    ("open", "Chart"),
]


def _table(table_id: str, columns: list[tuple[str, str]], page_size: int, selectable: bool = False) -> DataTable:
    """A sortable, filterable, paged table; rows carry an `id` so a click names the row (`selectable`:
    a tick box per row, for reviews)."""
    specs: list[DataTable.Columns] = []
    for key, name in columns:
        spec: DataTable.Columns = {"id": key, "name": name, "type": "numeric" if key in NUMERIC else "text"}
        if key == "relative":
            spec["format"] = {"specifier": "+.0%"}
        elif key in ("before", "after", "strength", "importance", "score"):
            spec["format"] = {"specifier": ",.3~f"}
        if key == "open":
            spec["presentation"] = "markdown"
        specs.append(spec)
    return DataTable(
        id=table_id,
        data=[],
        columns=specs,
        page_size=page_size,
        row_selectable="multi" if selectable else False,
        selected_rows=[],
        sort_action="native",
        filter_action="native",
        style_table={"overflowX": "auto"},
        markdown_options={"link_target": "_self"},
        style_cell={
            "fontFamily": "inherit",
            "fontSize": "0.85rem",
            "padding": "4px 8px",
            "textAlign": "left",
            "whiteSpace": "normal",
            "height": "auto",
            "maxWidth": "30rem",
            "cursor": "pointer",
        },
        style_header={"fontWeight": "600", "backgroundColor": "#F5F7FA"},
        # The finding's words need room; the markers beside them do not.
        style_cell_conditional=[{"if": {"column_id": "headline"}, "minWidth": "22rem"}]
        + [{"if": {"column_id": c}, "width": "5rem", "maxWidth": "6rem"} for c in ("new", "review", "kind")],
        style_data_conditional=[{"if": {"column_id": c}, "textAlign": "right"} for c in NUMERIC]
        + [{"if": {"state": "active"}, "backgroundColor": "#E6F1F8", "border": "1px solid #0072B2"}],
    )


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        view = logic.AlertsView.from_query(kwargs)
    except ViewStateError as error:
        return invalid_view(logic.PAGE_PATH, error)
    extra = [
        filter_field(
            "Kinds",
            dcc.Checklist(
                id=ids.ALERTS_KIND,
                value=list(view.kinds),
                inline=True,
                className="filter__control",
                inputClassName="me-1",
                labelClassName="me-3",
                options=[{"label": logic.KIND_LABELS[k], "value": k} for k in logic.KINDS],
            ),
            help_text="None ticked: every kind.",
        ),
        filter_field(
            "Metrics",
            dcc.Dropdown(
                id=ids.ALERTS_METRICS,
                value=list(view.metrics),
                multi=True,
                placeholder="All metrics",
                className="filter__control",
                options=[{"label": metric_title(m), "value": m} for m in sorted(METRICS)],
            ),
        ),
        radio_field(
            "Show",
            ids.ALERTS_SHOW,
            view.show,
            {s: logic.SHOW_LABELS[s] for s in logic.SHOWS},
            help_text="Needs attention: material alerts you have not acknowledged or dismissed.",
        ),
        radio_field("Order", ids.ALERTS_SORT, view.sort, {s: SORT_LABELS[s] for s in logic.SORTS}),
    ]
    return html.Div(
        [
            page_header(
                PAGE,
                "Alerts",
                "Anomalies, change points and emerging or vanishing countries and platforms of the latest "
                "analysis, and its ranked findings. Click a row to see it on its series.",
            ),
            filter_bar(PAGE, view.state, extra=extra),
            dcc.Store(id=ids.ALERTS_STATE, data=view.to_query()),
            status_area(ids.ALERTS_STATUS),
            html.P("", id=ids.ALERTS_RUN, className="chart-card__note"),
            section_card(
                "Alerts",
                html.Div(
                    [
                        html.P("", id=ids.ALERTS_COUNT, className="chart-card__note", role="status"),
                        _review_bar(),
                        _table(ids.ALERTS_TABLE, ALERT_COLUMNS, page_size=15, selectable=True),
                        dcc.Store(id=ids.ALERTS_REVIEWED, data=0),
                    ]
                ),
                subtitle="Material: a change of at least 20 % and of at least 10 (counts) or 2 points (shares); "
                "New: not alerted by the series' previous analysis. Change: after ÷ before − 1. Strength: "
                "robust z (anomaly), confidence (change point) or recent share of the split (emerging / "
                "vanishing). Type in the header row to filter a column.",
            ),
            chart_card(
                logic.ALERT_CHART,
                height=400,
                controls=html.A(
                    "Open in the Trend explorer",
                    id=ids.ALERTS_OPEN,
                    href="/trends",
                    className="btn btn-outline-primary btn-sm",
                ),
            ),
            section_card(
                "Ranked findings",
                _table(ids.ALERTS_FINDINGS_TABLE, FINDING_COLUMNS, page_size=10),
                subtitle="Every finding of the run in plain words, most important first "
                "(score = kind × grain × magnitude × confidence × reach).",
            ),
        ],
        id=ids.ALERTS_PAGE,
        className="alerts",
    )


def _review_bar() -> html.Div:
    """Buttons that acknowledge, dismiss or reopen the ticked rows, and what the last one did."""
    return html.Div(
        [
            html.Span("Ticked rows:", className="me-2"),
            dbc.Button("Acknowledge", id=ids.ALERTS_ACKNOWLEDGE, size="sm", color="primary", className="me-2"),
            dbc.Button("Dismiss", id=ids.ALERTS_DISMISS, size="sm", color="secondary", className="me-2"),
            dbc.Button("Reopen", id=ids.ALERTS_REOPEN, size="sm", color="link", className="me-2"),
            html.Span("", id=ids.ALERTS_REVIEW_STATUS, role="status", className="chart-card__note"),
        ],
        className="d-flex align-items-center flex-wrap mb-2",
    )


def _reader():
    return reader_of(dash.get_app())


def _view(query, with_series: bool = True) -> logic.AlertsView:
    """The page's view bound to the user's scope (`ScopeError` for a selected series outside it)."""
    view = logic.AlertsView.from_query(query or "")
    if not with_series:
        view = replace(view, state=view.state.with_changes(series=None), at=None)
    return replace(view, state=scope_state(view.state))


@callback(
    Output(ids.ALERTS_STATE, "data"),
    Output(ids.URL_SYNC, "search", allow_duplicate=True),
    *filter_inputs(PAGE),
    Input(ids.ALERTS_KIND, "value"),
    Input(ids.ALERTS_METRICS, "value"),
    Input(ids.ALERTS_SORT, "value"),
    Input(ids.ALERTS_SHOW, "value"),
    Input(ids.ALERTS_TABLE, "active_cell"),
    Input(ids.ALERTS_FINDINGS_TABLE, "active_cell"),
    State(ids.ALERTS_STATE, "data"),
    prevent_initial_call=True,
)
def _sync_state(countries, platforms, start, end, kinds, metrics, sort, show, alert_cell, finding_cell, query):
    """Filters, choices and the clicked row into the page's state and the address bar."""
    try:
        view = logic.AlertsView.from_query(query or "")
        view = view.with_changes(
            state=state_from_filters(view.state, countries, platforms, start, end),
            kinds=kinds or [],
            metrics=metrics or [],
            sort=sort or "importance",
            show=show or "attention",
        )
        trigger = dash.ctx.triggered_id
        cell = (
            alert_cell
            if trigger == ids.ALERTS_TABLE
            else finding_cell
            if trigger == ids.ALERTS_FINDINGS_TABLE
            else None
        )
        view = logic.select(view, (cell or {}).get("row_id"))
        view = logic.AlertsView.from_query(view.to_query())  # one validation path for links and controls
    except ViewStateError:
        return dash.no_update, dash.no_update
    if view.to_query() == (query or ""):
        # Unchanged (e.g. a table reporting its cell on mount): still set the store, because Dash holds
        # the drawing callbacks back until this callback has answered, and a no_update would skip them.
        return view.to_query(), dash.no_update
    record_view(logic.PAGE_PATH, view.to_query())
    return view.to_query(), view.to_query()


@callback(
    Output(ids.ALERTS_TABLE, "data"),
    Output(ids.ALERTS_COUNT, "children"),
    Output(ids.ALERTS_STATUS, "children"),
    Output(ids.ALERTS_RUN, "children"),
    Output(ids.ALERTS_TABLE, "selected_rows"),
    Input(ids.ALERTS_STATE, "data"),
    Input(ids.ALERTS_REVIEWED, "data"),
)
def _draw_tables(query, _reviews):
    found = logic.alert_table(_reader(), _view(query, with_series=False), reviewed_alerts())
    status = dbc.Alert(found.status, color="info", className="grace-alert mb-3") if found.status else None
    return found.alerts, found.count, status, found.run, []


@callback(Output(ids.ALERTS_FINDINGS_TABLE, "data"), Input(ids.ALERTS_STATE, "data"))
def _draw_findings(query):
    """The ranked findings, in a callback of their own: the two tables are drawn side by side, not one after
    the other (reviews change the alerts only)."""
    return logic.finding_table(_reader(), _view(query, with_series=False))


@callback(
    Output(ids.ALERTS_REVIEWED, "data"),
    Output(ids.ALERTS_REVIEW_STATUS, "children"),
    Input(ids.ALERTS_ACKNOWLEDGE, "n_clicks"),
    Input(ids.ALERTS_DISMISS, "n_clicks"),
    Input(ids.ALERTS_REOPEN, "n_clicks"),
    State(ids.ALERTS_TABLE, "derived_virtual_data"),
    State(ids.ALERTS_TABLE, "derived_virtual_selected_rows"),
    State(ids.ALERTS_STATE, "data"),
    State(ids.ALERTS_REVIEWED, "data"),
    prevent_initial_call=True,
)
def _review(_ack, _dismiss, _reopen, rows, selected, query, reviews):
    """Record the user's review of the ticked rows (scope-checked, audited), then redraw the tables."""
    action = {ids.ALERTS_ACKNOWLEDGE: "acknowledge", ids.ALERTS_DISMISS: "dismiss", ids.ALERTS_REOPEN: "reopen"}[
        dash.ctx.triggered_id
    ]
    keys = [rows[i]["alert_key"] for i in (selected or []) if 0 <= i < len(rows or []) and rows[i].get("alert_key")]
    if not keys:
        return dash.no_update, "Tick one or more rows first."
    try:
        done = review_alerts(logic.review_keys(_view(query, with_series=False), keys), action)
    except ScopeError as error:
        audit_refusal(logic.PAGE_PATH, error)
        return dash.no_update, f"Not recorded: {error}."
    except (PermissionError, ReviewError) as error:
        return dash.no_update, f"Not recorded: {error}."
    user = current_user()
    verb = {"acknowledge": "acknowledged", "dismiss": "dismissed", "reopen": "reopened"}[action]
    return (reviews or 0) + 1, f"{done:,} alert(s) {verb} by {user.name if user else 'you'}."


@callback(
    *chart_outputs(logic.ALERT_CHART),
    Output(ids.ALERTS_OPEN, "href"),
    Output(ids.ALERTS_OPEN, "style"),
    Input(ids.ALERTS_STATE, "data"),
)
def _draw_series(query):
    try:
        view = logic.draw_series(_reader(), _view(query))
    except ScopeError as error:  # a link to a series the user may not see: say so, in the audit log too
        audit_refusal(logic.PAGE_PATH, error)
        return empty_figure(f"Not shown: {error}."), "", "", "/trends", {"display": "none"}
    return view.figure, view.subtitle, view.note, view.link or "/trends", {} if view.link else {"display": "none"}
