"""Admin (`/admin`, admins only): users (add, change role, disable / enable) and the audit log.

Registered with `roles=("admin",)`: the navbar hides it from other roles and the guard refuses it
to them, and the layout and every callback check the role again on the server
(`dashboards.callbacks.admin`), so posting to a callback directly gets nothing. The forms carry
a Flask-WTF CSRF token checked before any change; every change is written with its audit row.
Logic: `dashboards.callbacks.admin`; the callbacks here only adapt.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.auth.audit import EVENTS
from dashboards.auth.context import auth_context, client_address, current_user
from dashboards.auth.validation import ROLES
from dashboards.callbacks import admin as logic
from dashboards.components import alert, aria, filter_field, page_header, rows_table, section_card
from warehouse.reference import EU27

dash.register_page(
    __name__, path=logic.PAGE, name="Admin", title="Admin · GRACE Trends", order=90, roles=logic.ADMIN_ROLES
)

USER_COLUMNS = (
    ("name", "User"),
    ("role", "Role"),
    ("scope", "Country scope"),
    ("enabled", "Enabled"),
    ("created", "Created (UTC)"),
    ("updated", "Updated (UTC)"),
)
AUDIT_COLUMNS = (
    ("id", "#"),
    ("at", "Time (UTC)"),
    ("event", "Event"),
    ("user", "User"),
    ("client", "Client"),
    ("detail", "Detail"),
)
BUTTONS = {
    ids.ADMIN_ADD: "add",
    ids.ADMIN_SET_ROLE: "set_role",
    ids.ADMIN_DISABLE: "disable",
    ids.ADMIN_ENABLE: "enable",
}


def _csrf_token() -> str:
    """A CSRF token for this session (empty outside a request, e.g. when Dash validates layouts)."""
    if not flask.has_request_context():
        return ""
    from flask_wtf.csrf import generate_csrf

    return generate_csrf()


def _select(component_id: str, options, value=None, placeholder: str = "", clearable: bool = False) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=component_id,
        options=options,
        value=value,
        placeholder=placeholder,
        clearable=clearable,
        className="filter__control",
    )


def user_forms() -> html.Div:
    """The add-user form and the change-user form (fields only; the callback does the work)."""
    roles = [{"label": role, "value": role} for role in ROLES]
    countries = [{"label": f"{name} ({code})", "value": code} for code, _alpha2, name in EU27]
    add = html.Div(
        [
            html.H3("Add a user", className="admin-form__title h6"),
            html.Div(
                [
                    filter_field(
                        "User name",
                        dcc.Input(
                            id=ids.ADMIN_NEW_NAME,
                            type="text",
                            autoComplete="off",
                            className="form-control",
                            placeholder="e.g. j.doe",
                        ),
                        help_text="2–32 characters: a-z first, then a-z, 0-9, '.', '_' or '-'.",
                    ),
                    filter_field("Role", _select(ids.ADMIN_NEW_ROLE, roles, "viewer")),
                    filter_field(
                        "Country scope", _select(ids.ADMIN_NEW_COUNTRY, countries, None, "All countries", True)
                    ),
                    filter_field(
                        "Password",
                        dcc.Input(
                            id=ids.ADMIN_NEW_PASSWORD,
                            type="password",
                            autoComplete="new-password",
                            className="form-control",
                        ),
                        help_text="At least 12 characters; hand it over in person.",
                    ),
                ],
                className="filters",
            ),
            dbc.Button("Add user", id=ids.ADMIN_ADD, color="primary", className="mt-2"),
        ],
        className="admin-form",
    )
    change = html.Div(
        [
            html.H3("Change a user", className="admin-form__title h6"),
            html.Div(
                [
                    filter_field("User", _select(ids.ADMIN_TARGET, [], None, "Choose a user")),
                    filter_field("New role", _select(ids.ADMIN_TARGET_ROLE, roles, None, "Choose a role")),
                ],
                className="filters",
            ),
            html.Div(
                [
                    dbc.Button("Change role", id=ids.ADMIN_SET_ROLE, color="primary"),
                    dbc.Button("Disable", id=ids.ADMIN_DISABLE, color="danger", outline=True),
                    dbc.Button("Enable", id=ids.ADMIN_ENABLE, color="secondary", outline=True),
                ],
                className="d-flex gap-2 mt-2",
            ),
        ],
        className="admin-form mt-4",
    )
    return html.Div([add, change])


def layout(**_kwargs) -> html.Div:
    """The page: empty tables and the forms (the callbacks fill and act, for admins only).

    It holds no data. Anyone but an admin (the guard refuses them first) gets a refusal and the
    skeleton hidden, without a CSRF token; the skeleton's ids stay so that Dash's layout check,
    which calls this outside any admin's request, knows the callbacks' components.
    """
    user = current_user()
    allowed = user is not None and user.role in logic.ADMIN_ROLES
    refusal = None
    if flask.has_request_context() and user is not None and not allowed:
        refusal = alert("This page needs the admin role.", color="danger", title="Not permitted.")
    events = [{"label": event, "value": event} for event in EVENTS]
    body = html.Div(
        [
            page_header(
                "admin",
                "Admin",
                "Users and roles, and the append-only audit log of sign-ins, page views, exports and user changes. "
                "Every change here is audited.",
                freshness=False,
            ),
            dcc.Store(id=ids.ADMIN_REFRESH, data=0),
            dcc.Input(id=ids.ADMIN_CSRF, type="hidden", value=_csrf_token() if allowed else ""),
            html.Div(id=ids.ADMIN_RESULT, className="status-area", role="status", **aria(live="polite")),
            dbc.Row(
                [
                    dbc.Col(section_card("Users", html.Div("Loading…", id=ids.ADMIN_USERS_TABLE)), lg=7),
                    dbc.Col(section_card("Manage users", user_forms(), card_id=ids.ADMIN_USER_FORM), lg=5),
                ],
                className="g-3 mb-3",
            ),
            section_card(
                "Audit log",
                html.Div(
                    [
                        html.P("Checking the chain…", id=ids.ADMIN_CHAIN, role="status"),
                        html.Div(
                            [
                                filter_field("User", _select(ids.ADMIN_AUDIT_USER, [], None, "All users", True)),
                                filter_field("Event", _select(ids.ADMIN_AUDIT_EVENT, events, None, "All events", True)),
                            ],
                            className="filters",
                        ),
                        html.Div("Loading…", id=ids.ADMIN_AUDIT_TABLE),
                    ]
                ),
                subtitle=f"Newest {logic.AUDIT_ROWS} events first",
            ),
        ],
        hidden=refusal is not None,
    )
    return html.Div([refusal, body], id=ids.ADMIN_CONSOLE, className="admin")


@callback(
    Output(ids.ADMIN_RESULT, "children"),
    Output(ids.ADMIN_REFRESH, "data"),
    Output(ids.ADMIN_NEW_PASSWORD, "value"),
    Output(ids.ADMIN_NEW_NAME, "value"),
    *[Input(button, "n_clicks") for button in BUTTONS],
    State(ids.ADMIN_CSRF, "value"),
    State(ids.ADMIN_NEW_NAME, "value"),
    State(ids.ADMIN_NEW_ROLE, "value"),
    State(ids.ADMIN_NEW_COUNTRY, "value"),
    State(ids.ADMIN_NEW_PASSWORD, "value"),
    State(ids.ADMIN_TARGET, "value"),
    State(ids.ADMIN_TARGET_ROLE, "value"),
    State(ids.ADMIN_REFRESH, "data"),
    prevent_initial_call=True,
)
def _change(_add, _role, _disable, _enable, token, name, role, country, password, target, target_role, refresh):
    action = BUTTONS.get(ctx.triggered_id)
    if action is None:
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    fields = {
        "name": name,
        "role": role,
        "country": country,
        "password": password,
        "target": target,
        "target_role": target_role,
    }
    try:
        result = logic.perform(action, auth_context(), current_user(), token, fields, client_address())
    except logic.AdminRefused as refused:
        return alert(str(refused), color="danger", title="Not permitted."), dash.no_update, "", dash.no_update
    message = alert(result.message, color="success" if result.ok else "warning")
    added = result.ok and action == "add"
    return (
        message,
        (refresh or 0) + int(result.ok),
        "" if result.ok else dash.no_update,
        "" if added else dash.no_update,
    )


@callback(
    Output(ids.ADMIN_USERS_TABLE, "children"),
    Output(ids.ADMIN_TARGET, "options"),
    Output(ids.ADMIN_AUDIT_USER, "options"),
    Output(ids.ADMIN_AUDIT_TABLE, "children"),
    Output(ids.ADMIN_CHAIN, "children"),
    Output(ids.ADMIN_CHAIN, "className"),
    Input(ids.ADMIN_REFRESH, "data"),
    Input(ids.ADMIN_AUDIT_USER, "value"),
    Input(ids.ADMIN_AUDIT_EVENT, "value"),
)
def _tables(_refresh, user_filter, event_filter):
    context, user, client = auth_context(), current_user(), client_address()
    try:
        users = logic.users_rows(context, user, client)
        events = logic.audit_rows(context, user, user_filter, event_filter, client=client)
        chain = logic.chain_status(context, user, client)
    except logic.AdminRefused as refused:
        text = str(refused)
        return text, [], [], text, text, "text-danger"
    except logic.AdminActionError as error:
        return dash.no_update, dash.no_update, dash.no_update, str(error), dash.no_update, dash.no_update
    names = [{"label": row["name"], "value": row["name"]} for row in users]
    shown = " of " + " and ".join(
        part
        for part in (f"user {user_filter}" if user_filter else "", f"event {event_filter}" if event_filter else "")
        if part
    )
    return (
        rows_table(users, USER_COLUMNS, f"{len(users)} users", f"{ids.ADMIN_USERS_TABLE}-rows", "admin-table"),
        names,
        names,
        rows_table(
            events,
            AUDIT_COLUMNS,
            f"Newest {len(events)} events" + (shown if user_filter or event_filter else ""),
            f"{ids.ADMIN_AUDIT_TABLE}-rows",
            "admin-table",
        ),
        chain.text,
        "admin-chain admin-chain--ok text-success"
        if chain.ok
        else "admin-chain admin-chain--broken text-danger fw-bold",
    )
