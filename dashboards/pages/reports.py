"""Reports (`/reports`): the report archive with downloads, run now, a preview, and schedules for admins.

Everything shown passes the signed-in user's scope (`dashboards.callbacks.reports`): a user scoped to one
country sees that country's archived runs and may run or schedule only for it. Runs asked for here are
built in the background by the server's report desk (`dashboards.report_desk`, implemented by
`reporting.desk`); the page polls while any is queued or running. Each run, download, refusal and
schedule change is audited. Logic: `dashboards.callbacks.reports`; the callbacks here only adapt.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.auth.context import audit_event, audit_refusal, auth_context, client_address, current_scope
from dashboards.auth.context import current_user as signed_in_user
from dashboards.callbacks import reports as logic
from dashboards.components import alert, aria, filter_field, page_header, rows_table, section_card
from dashboards.readers import desk_of
from dashboards.report_desk import ReportDesk, ReportDeskError, ReportJob, RunPreview
from grace.scope import ScopeError

dash.register_page(__name__, path=logic.PAGE, name="Reports", title="Reports · GRACE Trends", order=7)

POLL_MS = 2000
DEFAULT_TEMPLATE = "weekly-brief"
DEFAULT_CRON = "0 6 * * MON"
JOB_COLUMNS = (
    ("submitted", "Asked (UTC)"),
    ("template", "Template"),
    ("scope", "Scope"),
    ("by", "By"),
    ("status", "Status"),
    ("detail", "Archive folder or error"),
)
SCHEDULE_COLUMNS = (
    ("name", "Schedule"),
    ("template", "Template"),
    ("cron", "When (cron, UTC)"),
    ("scope", "Scope"),
    ("next_run", "Next run (UTC)"),
    ("last_run", "Latest run"),
    ("delivery", "Delivered to"),
)


def _desk() -> ReportDesk | None:
    return desk_of(dash.get_app())


def _select(component_id: str, options, value) -> dcc.Dropdown:
    return dcc.Dropdown(id=component_id, options=options, value=value, clearable=False, className="filter__control")


def layout(**_kwargs) -> html.Div:
    """The page for the signed-in user: the controls their role allows; the callbacks fill the rest."""
    desk, user, scope = _desk(), signed_in_user(), current_scope()
    templates = desk.templates() if desk is not None else []
    template_options = [{"label": f"{t.title} ({t.name}, per {t.grain})", "value": t.name} for t in templates]
    names = [t.name for t in templates]
    controls = html.Div(
        [
            html.Div(
                [
                    filter_field(
                        "Report",
                        _select(
                            ids.REPORTS_TEMPLATE,
                            template_options,
                            DEFAULT_TEMPLATE if DEFAULT_TEMPLATE in names else (names[0] if names else None),
                        ),
                    ),
                    filter_field(
                        "Scope",
                        _select(ids.REPORTS_SCOPE, logic.scope_choices(scope), logic.default_scope(scope)),
                        help_text="Only scopes within yours are offered.",
                    ),
                ],
                className="filters",
            ),
            html.Div(
                [
                    dbc.Button("Run now", id=ids.REPORTS_RUN, color="primary", disabled=not logic.may_run(user)),
                    html.Span(
                        "Running a report needs the analyst or admin role." if not logic.may_run(user) else "",
                        className="text-muted small align-self-center",
                    ),
                ],
                className="d-flex gap-2 mt-2",
            ),
            html.Div(id=ids.REPORTS_RUN_STATUS, className="status-area mt-2", role="status", **aria(live="polite")),
            html.H3("Preview", className="h6 mt-3"),
            html.Div("Loading…", id=ids.REPORTS_PREVIEW, className="reports-preview"),
        ]
    )
    body = [
        page_header(
            "reports",
            "Reports",
            "Strategic reports and briefing decks: every number in their text is recomputed from the warehouse "
            "when they are built, and small cells are suppressed in text, tables and charts.",
            freshness=False,
        ),
        alert(logic.NOT_SET_UP, color="warning") if desk is None else None,
        dcc.Store(id=ids.REPORTS_REFRESH, data=0),
        dcc.Interval(id=ids.REPORTS_POLL, interval=POLL_MS, disabled=True),
        dbc.Row(
            [
                dbc.Col(section_card("Run or preview a report", controls), lg=6),
                dbc.Col(
                    section_card(
                        "Runs asked for on this server",
                        html.Div("Loading…", id=ids.REPORTS_JOBS),
                        subtitle="Built one at a time in the background; finished runs join the archive.",
                    ),
                    lg=6,
                ),
            ],
            className="g-3 mb-3",
        ),
        section_card(
            "Archive",
            html.Div("Loading…", id=ids.REPORTS_ARCHIVE),
            subtitle="Every run with its outputs and manifest (checksums, data freshness, analysis run, "
            "definition hash, trigger), newest first.",
        ),
        html.Div(_schedules_card(), hidden=not logic.may_schedule(user), className="mt-3"),
    ]
    return html.Div(body, id=ids.REPORTS_PAGE, className="reports")


def _schedules_card() -> dbc.Card:
    """Admins: the schedules, a form to add one (for the report and scope chosen above) and to remove one."""
    form = html.Div(
        [
            html.Div(
                [
                    filter_field(
                        "Name",
                        dcc.Input(
                            id=ids.REPORTS_SCHEDULE_NAME,
                            type="text",
                            className="form-control",
                            placeholder="e.g. weekly-brief-mlt",
                        ),
                        help_text="a-z or 0-9 first, then a-z, 0-9, '-' or '_'.",
                    ),
                    filter_field(
                        "When (cron, UTC)",
                        dcc.Input(
                            id=ids.REPORTS_SCHEDULE_CRON, type="text", className="form-control", value=DEFAULT_CRON
                        ),
                        help_text="minute hour day month weekday; '0 6 * * MON' is Mondays 06:00.",
                    ),
                ],
                className="filters",
            ),
            dbc.Button(
                "Schedule the report chosen above", id=ids.REPORTS_SCHEDULE_ADD, color="primary", className="mt-2"
            ),
            html.Div(
                [
                    filter_field(
                        "Schedule",
                        dcc.Dropdown(id=ids.REPORTS_SCHEDULE_TARGET, options=[], placeholder="Choose a schedule"),
                    ),
                ],
                className="filters mt-3",
            ),
            dbc.Button(
                "Remove schedule", id=ids.REPORTS_SCHEDULE_REMOVE, color="danger", outline=True, className="mt-2"
            ),
            html.Div(
                id=ids.REPORTS_SCHEDULE_STATUS, className="status-area mt-2", role="status", **aria(live="polite")
            ),
        ]
    )
    return section_card(
        "Schedules",
        dbc.Row([dbc.Col(html.Div("Loading…", id=ids.REPORTS_SCHEDULES), lg=8), dbc.Col(form, lg=4)], className="g-3"),
        subtitle="Run by `grace reports due` from cron or a systemd timer; a missed run is caught up once, a "
        "failed one retried three times, then listed on the Operations page.",
    )


def _data(name: str, value: str) -> dict[str, Any]:
    """A `data-*` attribute (tests and assistive tools find rows and links by them)."""
    return {f"data-{name}": value}


def _archive_table(rows: list[logic.ArchiveRow], may_download: bool) -> html.Div | html.P:
    if not rows:
        return html.P("No archived report within your scope yet.", className="text-muted")
    header = ["Built (UTC)", "Report", "Period", "Scope", "Triggered by", "Numbers checked", "Files"]
    body = [
        html.Tr(
            [
                html.Td(row.generated),
                html.Td(row.title),
                html.Td(row.period),
                html.Td(row.scope),
                html.Td(row.triggered_by),
                html.Td(f"{row.numbers_checked:,}", className="text-end"),
                html.Td(
                    [
                        html.A(link.label, href=link.href, className="me-2", download="", **_data("file", link.label))
                        for link in row.links
                    ]
                    if may_download
                    else "—"
                ),
            ],
            **_data("run", row.run_id),
        )
        for row in rows
    ]
    note = None if may_download else html.P("Downloads need the analyst or admin role.", className="text-muted small")
    return html.Div(
        [
            note,
            dbc.Table(
                [
                    html.Caption(f"{len(rows)} archived run(s)"),
                    html.Thead(html.Tr([html.Th(label, scope="col") for label in header])),
                    html.Tbody(body),
                ],
                id=f"{ids.REPORTS_ARCHIVE}-rows",
                striped=True,
                hover=True,
                size="sm",
                responsive=True,
            ),
        ]
    )


def _preview_view(preview: RunPreview) -> html.Div:
    facts = [
        ("Period", preview.period),
        ("Scope", preview.scope),
        ("Audience", preview.audience),
        ("Marking", preview.marking),
        ("Small-cell threshold", f"k = {preview.k}"),
    ]
    sections = [
        html.Li([html.Strong(section.title), html.Ul([html.Li(item) for item in section.contents])])
        for section in preview.sections
    ]
    left_out = (
        html.P(
            "Left out for this scope (they cover every country): " + "; ".join(preview.left_out) + ".",
            className="text-muted small",
        )
        if preview.left_out
        else None
    )
    return html.Div(
        [
            html.P(html.Strong(preview.title)),
            html.Dl([item for term, value in facts for item in (html.Dt(term), html.Dd(value))], className="row-dl"),
            html.Ol(sections),
            left_out,
        ]
    )


@callback(
    Output(ids.REPORTS_PREVIEW, "children"),
    Input(ids.REPORTS_TEMPLATE, "value"),
    Input(ids.REPORTS_SCOPE, "value"),
)
def _preview(template, report_scope):
    desk = _desk()
    if desk is None:
        return logic.NOT_SET_UP
    if not template or not report_scope:
        return "Choose a report and a scope."
    try:
        return _preview_view(logic.preview(desk, current_scope(), template, report_scope))
    except ScopeError as refused:
        audit_refusal(logic.PAGE, refused)
        return alert(str(refused), color="danger", title="Not permitted.")
    except ReportDeskError as error:
        return alert(str(error), color="warning")


def _audit_outcome(job: ReportJob, audit, client: str | None) -> None:
    """Record a finished background run in the audit log, as its requester (runs outside any request)."""
    if job.status == "done":
        audit.record("report_run", job.requested_by, job.audit_detail, client)
    else:
        audit.record("report_run_failed", job.requested_by, {**job.audit_detail, "message": job.message[:500]}, client)


@callback(
    Output(ids.REPORTS_RUN_STATUS, "children"),
    Output(ids.REPORTS_REFRESH, "data", allow_duplicate=True),
    Input(ids.REPORTS_RUN, "n_clicks"),
    State(ids.REPORTS_TEMPLATE, "value"),
    State(ids.REPORTS_SCOPE, "value"),
    State(ids.REPORTS_REFRESH, "data"),
    prevent_initial_call=True,
)
def _run(_clicks, template, report_scope, refresh):
    desk = _desk()
    if desk is None:
        return alert(logic.NOT_SET_UP), dash.no_update
    audit, client = auth_context().audit, client_address()
    try:
        job = logic.request_run(
            desk,
            signed_in_user(),
            current_scope(),
            template or "",
            report_scope or "",
            on_done=lambda finished: _audit_outcome(finished, audit, client),
        )
    except (PermissionError, ScopeError) as refused:
        audit_refusal(logic.PAGE, refused)
        return alert(str(refused), color="danger", title="Not permitted."), dash.no_update
    except ReportDeskError as error:
        return alert(str(error), color="warning"), dash.no_update
    message = f"Queued: {job.template} for {job.scope}. It joins the archive when it is built (usually under a minute)."
    return alert(message, color="info"), (refresh or 0) + 1


@callback(
    Output(ids.REPORTS_ARCHIVE, "children"),
    Output(ids.REPORTS_JOBS, "children"),
    Output(ids.REPORTS_POLL, "disabled"),
    Output(ids.REPORTS_SCHEDULES, "children"),
    Output(ids.REPORTS_SCHEDULE_TARGET, "options"),
    Input(ids.REPORTS_REFRESH, "data"),
    Input(ids.REPORTS_POLL, "n_intervals"),
)
def _tables(_refresh, _ticks):
    desk = _desk()
    if desk is None:
        return logic.NOT_SET_UP, "", True, "", []
    user, scope = signed_in_user(), current_scope()
    archive = _archive_table(logic.archive_rows(desk, user, scope), logic.may_download(user))
    jobs = logic.job_rows(desk, scope)
    jobs_view = (
        rows_table(jobs, JOB_COLUMNS, f"{len(jobs)} run(s) asked for", f"{ids.REPORTS_JOBS}-rows")
        if jobs
        else html.P("None since the server started.", className="text-muted")
    )
    busy = any(row["status"] in ("queued", "running") for row in jobs)
    if not logic.may_schedule(user):
        return archive, jobs_view, not busy, "", []
    schedules = logic.schedule_rows(desk, user, scope)
    schedules_view = (
        rows_table(schedules, SCHEDULE_COLUMNS, f"{len(schedules)} schedule(s)", f"{ids.REPORTS_SCHEDULES}-rows")
        if schedules
        else html.P("No schedule yet.", className="text-muted")
    )
    return archive, jobs_view, not busy, schedules_view, [{"label": r["name"], "value": r["name"]} for r in schedules]


@callback(
    Output(ids.REPORTS_SCHEDULE_STATUS, "children"),
    Output(ids.REPORTS_REFRESH, "data", allow_duplicate=True),
    Input(ids.REPORTS_SCHEDULE_ADD, "n_clicks"),
    Input(ids.REPORTS_SCHEDULE_REMOVE, "n_clicks"),
    State(ids.REPORTS_SCHEDULE_NAME, "value"),
    State(ids.REPORTS_SCHEDULE_CRON, "value"),
    State(ids.REPORTS_TEMPLATE, "value"),
    State(ids.REPORTS_SCOPE, "value"),
    State(ids.REPORTS_SCHEDULE_TARGET, "value"),
    State(ids.REPORTS_REFRESH, "data"),
    prevent_initial_call=True,
)
def _change_schedule(_add, _remove, name, cron, template, report_scope, target, refresh):
    desk = _desk()
    if desk is None:
        return alert(logic.NOT_SET_UP), dash.no_update
    user, scope = signed_in_user(), current_scope()
    try:
        if ctx.triggered_id == ids.REPORTS_SCHEDULE_ADD:
            added = logic.add_schedule(desk, user, scope, name or "", template or "", cron or "", report_scope or "")
            audit_event(
                "report_scheduled",
                {"schedule": added.name, "template": template, "cron": added.cron, "scope": report_scope},
            )
            message = f"Scheduled {added.name}: next run {added.next_run} UTC."
        else:
            if not target:
                return alert("Choose a schedule to remove."), dash.no_update
            logic.remove_schedule(desk, user, scope, target)
            audit_event("report_unscheduled", {"schedule": target})
            message = f"Removed {target} (its archived runs stay)."
    except (PermissionError, ScopeError) as refused:
        audit_refusal(logic.PAGE, refused)
        return alert(str(refused), color="danger", title="Not permitted."), dash.no_update
    except ReportDeskError as error:
        return alert(str(error), color="warning"), dash.no_update
    return alert(message, color="success"), (refresh or 0) + 1
