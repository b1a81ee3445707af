"""Triage (`/triage`, analysts and admins): the user's queue of scored referrals, find one by its case-system
report number, and record a review (priority confirmed or changed, actionable or not) that becomes a label.

Registered with `roles=("analyst", "admin")`: the navbar hides it from viewers and the guard refuses it to
them, and every callback checks the role again on the server. Every data path takes the user's `Scope`
(`current_scope()`): the queue's SQL binds `$scope_countries` / `$scope_agencies`, and a referral key — from a
click, a search or a crafted request — is looked up through the scope before it is shown or reviewed; one
outside the scope answers like an absent one and is audited as `access_denied`. Searches and reviews are
audited (`triage_search`, `triage_reviewed`; the pseudonym, never the report number), page views as on every
page. Logic: `dashboards.callbacks.triage`; the callbacks here only adapt.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.dash_table.DataTable import DataTable

from dashboards import ids
from dashboards.auth.context import audit_event, current_scope, current_user, my_triage_reviews, review_referral
from dashboards.auth.triage_reviews import TriageReviewError
from dashboards.callbacks import triage as logic
from dashboards.components import (
    filter_field,
    freshness_id,
    invalid_view,
    page_header,
    radio_field,
    section_card,
    status_area,
)
from dashboards.readers import reader_of
from dashboards.state import ViewStateError
from dashboards.wiring import record_view
from grace.errors import ConfigError, WarehouseError
from grace.scope import ScopeError

PAGE = "triage"
dash.register_page(
    __name__, path=logic.PAGE_PATH, name="Triage", title="Triage · GRACE Trends", order=5, roles=logic.TRIAGE_ROLES
)

QUEUE_COLUMNS = [
    ("short_id", "Referral"),
    ("marks", "Sample"),
    ("received", "Received"),
    ("agency", "Agency"),
    ("platform", "Platform"),
    ("incident_type", "Incident type"),
    ("tier", "Tier"),
    ("probability", "Probability"),
    ("rules", "Rules fired"),
    ("reasons", "Raised by"),
    ("status", "Status"),
    ("reviewed", "My review"),
]
DETAIL_FIELDS = [
    ("short_id", "Referral"),
    ("received", "Received"),
    ("agency", "Agency"),
    ("platform", "Platform"),
    ("incident_type", "Incident type"),
    ("status", "Status"),
    ("tier", "Current tier"),
    ("probability", "Probability"),
    ("priority_score", "Priority score"),
    ("rules", "Rules fired"),
    ("contributions", "Raised by (log-odds added)"),
    ("model_version", "Model"),
    ("run_id", "Scoring run"),
    ("reviewed", "My review"),
]


def _may_triage() -> bool:
    """Whether this request's user may use the page (the guard refuses the page itself; callbacks check too)."""
    user = current_user()
    if user is not None and user.role in logic.TRIAGE_ROLES:
        return True
    audit_event("access_denied", {"path": logic.PAGE_PATH, "needs": list(logic.TRIAGE_ROLES)})
    return False


def _reader():
    return reader_of(dash.get_app())


def _view(query) -> logic.TriageView:
    return logic.TriageView.from_query(query or "").within(current_scope())


def _table() -> DataTable:
    specs: list[DataTable.Columns] = []
    for key, name in QUEUE_COLUMNS:
        spec: DataTable.Columns = {"id": key, "name": name, "type": "numeric" if key == "probability" else "text"}
        if key == "probability":
            spec["format"] = {"specifier": ".2f"}
        specs.append(spec)
    return DataTable(
        id=ids.TRIAGE_TABLE,
        data=[],
        columns=specs,
        page_action="none",
        sort_action="none",
        style_table={"overflowX": "auto"},
        style_cell={
            "fontFamily": "inherit",
            "fontSize": "0.85rem",
            "padding": "4px 8px",
            "textAlign": "left",
            "whiteSpace": "normal",
            "height": "auto",
            "maxWidth": "20rem",
            "cursor": "pointer",
        },
        style_header={"fontWeight": "600", "backgroundColor": "#F5F7FA"},
        style_data_conditional=[
            {"if": {"column_id": "probability"}, "textAlign": "right"},
            {"if": {"filter_query": '{marks} != ""'}, "backgroundColor": "#FFF8E1"},
            {"if": {"state": "active"}, "backgroundColor": "#E6F1F8", "border": "1px solid #0072B2"},
        ],
    )


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        view = logic.TriageView.from_query(kwargs)
    except ViewStateError as error:
        return invalid_view(logic.PAGE_PATH, error)
    filters = html.Div(
        [
            filter_field(
                "Agency",
                dcc.Dropdown(
                    id=ids.TRIAGE_AGENCY,
                    value=list(view.agencies),
                    multi=True,
                    placeholder="Every agency in your scope",
                    className="filter__control",
                    options=[{"label": a, "value": a} for a in view.agencies],
                ),
            ),
            filter_field(
                "Tier",
                dcc.Checklist(
                    id=ids.TRIAGE_TIER,
                    value=list(view.tiers),
                    inline=True,
                    className="filter__control",
                    inputClassName="me-1",
                    labelClassName="me-3",
                    options=[{"label": t, "value": t} for t in logic.TIERS],
                ),
                help_text="None ticked: every tier.",
            ),
            radio_field(
                "Status",
                ids.TRIAGE_STATUS_FILTER,
                view.status,
                {s: logic.STATUS_LABELS[s] for s in logic.STATUS_CHOICES},
                help_text="Open: received, triaged or investigating.",
            ),
            radio_field(
                "Show",
                ids.TRIAGE_SHOW,
                view.show,
                {s: logic.SHOW_LABELS[s] for s in logic.SHOWS},
                help_text="Review sample: the audit sample and the most uncertain referrals (listed first).",
            ),
        ],
        className="filter-bar",
    )
    return html.Div(
        [
            page_header(
                PAGE,
                "Triage",
                "Your queue of scored referrals, highest priority first. A score orders the queue; you decide. "
                "Your reviews train the next model.",
            ),
            filters,
            dcc.Store(id=ids.TRIAGE_STATE, data=view.to_query()),
            dcc.Store(id=ids.TRIAGE_SELECTED, data=None),
            dcc.Store(id=ids.TRIAGE_REVIEWED, data=0),
            status_area(ids.TRIAGE_STATUS),
            section_card("Find by report number", _search_bar()),
            section_card(
                "Queue",
                html.Div(
                    [
                        html.P("", id=ids.TRIAGE_COUNT, className="chart-card__note", role="status"),
                        _table(),
                        _pager(),
                    ]
                ),
                subtitle="Referral: a pseudonymous id (never the report number). Sample: the audit sample (about 5 % of "
                "the last week's referrals, chosen by the key, not the score) and the most uncertain referrals "
                "(probability closest to 0.5), reviewed first so the model also learns where it is unsure. "
                "Raised by: the feature groups that raised the model's score most. Click a row to review it.",
            ),
            section_card("Review", _review_panel()),
        ],
        id=ids.TRIAGE_PAGE,
        className="triage",
    )


def _search_bar() -> html.Div:
    return html.Div(
        [
            html.Label("Report number", htmlFor=ids.TRIAGE_SEARCH_INPUT, className="me-2"),
            dbc.Input(
                id=ids.TRIAGE_SEARCH_INPUT,
                type="text",
                placeholder="Case-system report number",
                autocomplete="off",
                debounce=True,
                className="me-2",
                style={"maxWidth": "22rem"},
            ),
            dbc.Button("Find", id=ids.TRIAGE_SEARCH_BUTTON, size="sm", color="primary", className="me-2"),
            html.Span("", id=ids.TRIAGE_SEARCH_STATUS, role="status", className="chart-card__note"),
        ],
        className="d-flex align-items-center flex-wrap",
    )


def _pager() -> html.Div:
    return html.Div(
        [
            dbc.Button("Previous", id=ids.TRIAGE_PREV, size="sm", color="secondary", className="me-2", disabled=True),
            html.Span("", id=ids.TRIAGE_PAGE_TEXT, className="me-2"),
            dbc.Button("Next", id=ids.TRIAGE_NEXT, size="sm", color="secondary", disabled=True),
        ],
        className="d-flex align-items-center mt-2",
    )


def _review_panel() -> html.Div:
    return html.Div(
        [
            html.Div(html.P("Select a referral in the queue or find one by its report number."), id=ids.TRIAGE_DETAIL),
            radio_field(
                "Priority",
                ids.TRIAGE_REVIEW_TIER,
                None,
                {t: t for t in logic.TIERS},
                help_text="Keep the current tier to confirm it, or choose another.",
            ),
            radio_field("Actionable", ids.TRIAGE_REVIEW_ACTIONABLE, None, {"yes": "Yes", "no": "No"}),
            html.Div(
                [
                    dbc.Button(
                        "Record review", id=ids.TRIAGE_REVIEW_BUTTON, size="sm", color="primary", className="me-2"
                    ),
                    html.Span("", id=ids.TRIAGE_REVIEW_STATUS, role="status", className="chart-card__note"),
                ],
                className="d-flex align-items-center mt-2",
            ),
        ]
    )


@callback(
    Output(ids.TRIAGE_STATE, "data"),
    Output(ids.URL_SYNC, "search", allow_duplicate=True),
    Input(ids.TRIAGE_AGENCY, "value"),
    Input(ids.TRIAGE_TIER, "value"),
    Input(ids.TRIAGE_STATUS_FILTER, "value"),
    Input(ids.TRIAGE_SHOW, "value"),
    Input(ids.TRIAGE_PREV, "n_clicks"),
    Input(ids.TRIAGE_NEXT, "n_clicks"),
    State(ids.TRIAGE_STATE, "data"),
    prevent_initial_call=True,
)
def _sync_state(agencies, tiers, status, show, _prev, _next, query):
    """Filters and paging into the page's state and the address bar (a filter change goes back to page 1)."""
    if not _may_triage():
        return dash.no_update, dash.no_update
    try:
        view = logic.TriageView.from_query(query or "")
        trigger = dash.ctx.triggered_id
        if trigger in (ids.TRIAGE_PREV, ids.TRIAGE_NEXT):
            step = -1 if trigger == ids.TRIAGE_PREV else 1
            view = view.with_changes(page=min(max(1, view.page + step), logic.MAX_PAGE))
        else:
            changed = view.with_changes(
                agencies=agencies or [], tiers=tiers or [], status=status or "open", show=show or "queue"
            )
            view = changed.with_changes(page=1) if changed != view else view
        view = logic.TriageView.from_query(view.to_query())  # one validation path for links and controls
    except ViewStateError:
        return dash.no_update, dash.no_update
    if view.to_query() == (query or ""):
        return view.to_query(), dash.no_update
    record_view(logic.PAGE_PATH, view.to_query())
    return view.to_query(), view.to_query()


@callback(
    Output(ids.TRIAGE_AGENCY, "options"),
    Output(freshness_id(PAGE), "children"),
    Input(ids.TRIAGE_AGENCY, "id"),
)
def _fill_options(_id):
    """The agencies of the user's scope that have scored referrals, and the data-freshness line."""
    if not _may_triage():
        return [], ""
    from dashboards.freshness import data_freshness

    reader = _reader()
    try:
        freshness = data_freshness(reader)
    except WarehouseError as error:
        freshness = f"Warehouse unavailable: {error}"
    return logic.agency_options(reader, current_scope()), freshness


@callback(
    Output(ids.TRIAGE_TABLE, "data"),
    Output(ids.TRIAGE_COUNT, "children"),
    Output(ids.TRIAGE_STATUS, "children"),
    Output(ids.TRIAGE_PAGE_TEXT, "children"),
    Output(ids.TRIAGE_PREV, "disabled"),
    Output(ids.TRIAGE_NEXT, "disabled"),
    Input(ids.TRIAGE_STATE, "data"),
    Input(ids.TRIAGE_REVIEWED, "data"),
)
def _draw_queue(query, _reviews):
    if not _may_triage():
        return [], "", None, "", True, True
    try:
        view = _view(query)
    except ViewStateError as error:
        return [], "", dbc.Alert(str(error), color="warning"), "", True, True
    found = logic.queue(_reader(), view, my_triage_reviews)
    status = dbc.Alert(found.status, color="info", className="grace-alert mb-3") if found.status else None
    return (
        found.rows,
        found.count,
        status,
        f"Page {found.page:,} of {found.pages:,}",
        found.page <= 1,
        found.page >= found.pages,
    )


def _refuse(key: str, how: str) -> None:
    """Audit a referral key asked for outside the user's scope (the user is told only "not found")."""
    audit_event(
        "access_denied",
        {"path": logic.PAGE_PATH, "reason": f"{how}: referral outside your scope", "referral_key": key},
    )


def _in_scope(key: str | None, how: str) -> dict | None:
    """The referral of `key` if the user's scope allows it; None (and, when it exists elsewhere, an audited
    refusal) otherwise."""
    if not key:
        return None
    reader, scope = _reader(), current_scope()
    try:
        record = logic.referral(reader, scope, key)
    except ScopeError:
        record = None
    if record is None and logic.exists_outside(reader, scope, key):
        _refuse(key, how)
    return record


@callback(
    Output(ids.TRIAGE_SELECTED, "data"),
    Output(ids.TRIAGE_SEARCH_STATUS, "children"),
    Output(ids.TRIAGE_SEARCH_INPUT, "value"),
    Input(ids.TRIAGE_TABLE, "active_cell"),
    Input(ids.TRIAGE_SEARCH_BUTTON, "n_clicks"),
    Input(ids.TRIAGE_SEARCH_INPUT, "n_submit"),
    State(ids.TRIAGE_SEARCH_INPUT, "value"),
    prevent_initial_call=True,
)
def _select(cell, _clicks, _submit, report_number):
    """A clicked row, or the referral of a report number, becomes the selected referral (scope-checked)."""
    if not _may_triage():
        return None, "", ""
    if dash.ctx.triggered_id == ids.TRIAGE_TABLE:
        key = (cell or {}).get("row_id")
        if not key:
            return dash.no_update, dash.no_update, dash.no_update
        return (key if _in_scope(str(key), "queue selection") else None), "", dash.no_update
    if not (report_number or "").strip():
        return dash.no_update, "Type a report number first.", ""
    from grace.config import load_pseudonym_key
    from grace.pseudonyms import referral_key

    try:
        key = referral_key(load_pseudonym_key(create=False), report_number)
    except ConfigError:
        return dash.no_update, "Search is unavailable: this server has no pseudonymisation key.", ""
    record = _in_scope(key, "report-number search")
    audit_event("triage_search", {"referral_key": key, "found": record is not None})
    if record is None:
        return None, logic.NOT_FOUND, ""
    return key, f"Found R-{record['short_id']}.", ""


@callback(
    Output(ids.TRIAGE_DETAIL, "children"),
    Output(ids.TRIAGE_REVIEW_TIER, "value"),
    Output(ids.TRIAGE_REVIEW_ACTIONABLE, "value"),
    Output(ids.TRIAGE_REVIEW_BUTTON, "disabled"),
    Input(ids.TRIAGE_SELECTED, "data"),
    Input(ids.TRIAGE_REVIEWED, "data"),
)
def _show_detail(key, _reviews):
    """The selected referral's codes, score and explanation, and the review form set to its current tier (or
    to the user's earlier review)."""
    empty = html.P("Select a referral in the queue or find one by its report number.")
    if not key or not _may_triage():
        return empty, None, None, True
    record = _in_scope(str(key), "referral detail")
    if record is None:
        return html.P(logic.NOT_FOUND), None, None, True
    review = my_triage_reviews([record["referral_key"]]).get(record["referral_key"])
    shown = logic.detail(record, review) or {}
    rows = [html.Tr([html.Th(label, scope="row"), html.Td(str(shown[name]))]) for name, label in DETAIL_FIELDS]
    table = html.Table(html.Tbody(rows), className="table table-sm triage-detail", id=f"{ids.TRIAGE_DETAIL}-table")
    tier = review.tier_after if review else record["tier"]
    actionable = None if review is None else ("yes" if review.actionable else "no")
    return table, tier, actionable, False


@callback(
    Output(ids.TRIAGE_REVIEWED, "data"),
    Output(ids.TRIAGE_REVIEW_STATUS, "children"),
    Input(ids.TRIAGE_REVIEW_BUTTON, "n_clicks"),
    State(ids.TRIAGE_SELECTED, "data"),
    State(ids.TRIAGE_REVIEW_TIER, "value"),
    State(ids.TRIAGE_REVIEW_ACTIONABLE, "value"),
    State(ids.TRIAGE_REVIEWED, "data"),
    prevent_initial_call=True,
)
def _review(_clicks, key, tier, actionable, reviews):
    """Record the user's review of the selected referral: scope-checked (the key is looked up through the scope),
    the tier before and the run read from the warehouse, audited with the review in one transaction."""
    if not _may_triage():
        return dash.no_update, "Not recorded: only analysts and admins review referrals."
    if actionable not in ("yes", "no") or tier not in logic.TIERS:
        return dash.no_update, "Choose a priority and whether the referral is actionable."
    record = _in_scope(str(key or ""), "review")
    if record is None:
        return dash.no_update, f"Not recorded: {logic.NOT_FOUND}"
    try:
        done = review_referral(
            record["referral_key"],
            record["tier"],
            tier,
            actionable == "yes",
            record["run_id"],
            record["model_version"],
        )
    except (PermissionError, TriageReviewError) as error:
        return dash.no_update, f"Not recorded: {error}."
    verdict = "confirmed" if done.tier_after == done.tier_before else f"changed {done.tier_before} → {done.tier_after}"
    user = current_user()
    return (reviews or 0) + 1, (
        f"Review recorded by {user.name if user else 'you'}: R-{record['short_id']} priority {verdict}, "
        f"{'actionable' if done.actionable else 'not actionable'}."
    )
