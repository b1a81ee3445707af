"""Signing in from tests: a Flask test client logged in through the real `/login` form.

Used by the auth tests and by any test that drives a `create_app` app through `test_client()`
(every route needs a login now). Nothing is bypassed: the user is added to the app's own store
and the client posts the form with the CSRF token the login page gave it.
"""

from __future__ import annotations

import re

import dash

from dashboards.auth.context import auth_context

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
TEST_PASSWORD = "correct horse battery staple"


def csrf_token(html: bytes | str) -> str:
    """The CSRF token of a rendered login or logout form."""
    text = html.decode() if isinstance(html, bytes) else html
    found = CSRF_FIELD.search(text)
    if not found:
        raise AssertionError("no csrf_token field in the page")
    return found.group(1)


def ensure_user(
    app: dash.Dash,
    name: str,
    role: str,
    password: str = TEST_PASSWORD,
    country: str | None = None,
    agency: str | None = None,
) -> None:
    """Add the user to the app's store unless a user of that name exists (`agency` needs its `country`)."""
    users = auth_context(app.server).users
    if users.get(name) is None:
        users.add(name, role, password, country, actor="(test setup)", agency=agency)


def log_in(client, name: str, password: str = TEST_PASSWORD, next_: str = "/"):
    """Post the login form as a browser would; returns the response (302 on success)."""
    token = csrf_token(client.get("/login").data)
    return client.post("/login", data={"csrf_token": token, "username": name, "password": password, "next": next_})


def signed_in_client(
    app: dash.Dash,
    name: str = "tester",
    role: str = "analyst",
    country: str | None = None,
    password: str = TEST_PASSWORD,
):
    """A new test client of `app`, signed in as `name` (created with `role` if missing)."""
    ensure_user(app, name, role, password, country)
    client = app.server.test_client()
    response = log_in(client, name, password)
    if response.status_code != 302:
        raise AssertionError(f"login as {name} failed: HTTP {response.status_code}")
    return client
