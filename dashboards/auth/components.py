"""Small pieces the app shell uses: who may see a page, the signed-in user's label, sign-out.

A static Dash layout is built once for everybody, so anything that depends on the user (the
user label, which pages the navigation lists, the sign-out form's CSRF token) must come from a
layout function or callback that runs inside the request — as the shell's `shell_layout` does.
"""

from __future__ import annotations

from collections.abc import Mapping

import flask
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from dashboards.auth.context import current_user
from dashboards.auth.session import CurrentUser

SIGN_OUT_ID = "auth-sign-out"
ACCOUNT_MENU_ID = "auth-account-menu"


def page_visible_to(page: Mapping, user: CurrentUser | None) -> bool:
    """Whether a `dash.page_registry` entry is for this user (pages without `roles` are for all)."""
    roles = page.get("roles")
    return not roles or (user is not None and user.role in roles)


def user_label(user: CurrentUser | None = None) -> str:
    """`name · role` (plus `· DEU` for a country-scoped user, `· AGY-NLD` for an agency-scoped one) of the
    current request's user."""
    user = user or current_user()
    if user is None:
        return ""
    return " · ".join(part for part in (user.name, user.role, user.agency or user.country) if part)


def sign_out_link(class_name: str = "") -> html.A:  # for static layouts
    """A plain link (full page load) to `/logout`, which asks to confirm and signs out with a CSRF-checked POST."""
    return html.A("Sign out", href="/logout", id=SIGN_OUT_ID, className=class_name or None)


def account_menu():
    """The navbar's account area: `name · role` and a one-click sign-out form (POST with CSRF token).

    None outside a request or without a signed-in user. Call it from a per-request layout only.
    """
    if not flask.has_request_context():
        return None
    user = current_user()
    if user is None:
        return None
    return html.Div(
        [
            html.Span(user_label(user), className="grace-nav__user", id="auth-user-label"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                    html.Button("Sign out", type="submit", id=SIGN_OUT_ID, className="btn btn-sm btn-outline-light"),
                ],
                method="post",
                action="/logout",
                className="auth-sign-out-form",
            ),
        ],
        id=ACCOUNT_MENU_ID,
        className="grace-nav__account",
    )
