"""Admin page: its callbacks as plain functions on a real auth store (SQLite file, Argon2id, hash-chained audit).

Each action is checked in the store and in the audit log it writes; refusals (not an admin, no CSRF
token, guard rails) must change nothing. CSRF tokens are real Flask-WTF tokens of a real Flask session.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import flask
import pytest
from flask_wtf.csrf import generate_csrf

from dashboards.auth.audit import AuditLog
from dashboards.auth.context import AuthContext
from dashboards.auth.ratelimit import LoginRateLimit
from dashboards.auth.reviews import AlertReviews
from dashboards.auth.session import CurrentUser
from dashboards.auth.triage_reviews import TriageReviews
from dashboards.auth.users import UserStore
from dashboards.callbacks import admin

PASSWORD = "a long enough test passphrase"
ADMIN = CurrentUser("ada", "admin", None)
VIEWER = CurrentUser("vic", "viewer", None)
CLIENT = "192.0.2.10"


@pytest.fixture
def context(tmp_path) -> AuthContext:
    users = UserStore(tmp_path / "auth.sqlite")
    audit = AuditLog(users.path)
    users.add("ada", "admin", PASSWORD, actor="(test setup)")
    users.add("vic", "viewer", PASSWORD, actor="(test setup)")
    return AuthContext(
        users,
        audit,
        LoginRateLimit(audit),
        timedelta(hours=8),
        AlertReviews(users.path),
        TriageReviews(users.path),
    )


@pytest.fixture
def request_token():
    """A request context of a Flask app with a session, and a valid CSRF token for it."""
    app = flask.Flask("admin-test")
    app.secret_key = "test-only-secret-key-of-32-characters"
    with app.test_request_context("/_dash-update-component", method="POST"):
        yield generate_csrf()


def newest(context: AuthContext, event: str):
    rows = context.audit.recent(1, {"event": event})
    return rows[0] if rows else None


# --- who may -----------------------------------------------------------------------------------


def test_a_viewer_is_refused_every_reading_and_the_refusal_is_audited(context):
    for read in (
        lambda: admin.users_rows(context, VIEWER, CLIENT),
        lambda: admin.audit_rows(context, VIEWER),
        lambda: admin.chain_status(context, VIEWER),
    ):
        with pytest.raises(admin.AdminRefused, match="needs the admin role"):
            read()
    denied = context.audit.recent(10, {"event": "access_denied"})
    assert [row.detail["action"] for row in denied] == ["verify the audit chain", "read the audit log", "list users"]
    assert (denied[-1].user, denied[-1].client, denied[-1].detail["path"], denied[-1].detail["needs"]) == (
        "vic",
        CLIENT,
        "/admin",
        ["admin"],
    )
    with pytest.raises(admin.AdminRefused, match="Sign in"):
        admin.users_rows(context, None)


def test_a_viewer_posting_a_change_directly_changes_nothing(context, request_token):
    with pytest.raises(admin.AdminRefused):
        admin.perform("add", context, VIEWER, request_token, {"name": "mallory", "role": "admin", "password": PASSWORD})
    assert context.users.get("mallory") is None
    assert newest(context, "access_denied").detail["action"] == "add"


def test_a_change_without_the_forms_csrf_token_is_refused(context, request_token):
    for token in (None, "", "forged-token"):
        result = admin.perform("add", context, ADMIN, token, {"name": "eve", "role": "analyst", "password": PASSWORD})
        assert not result.ok and "expired or did not come from this site" in result.message
    assert context.users.get("eve") is None and newest(context, "user_added").detail["name"] == "vic"


# --- users -------------------------------------------------------------------------------------


def test_an_admin_adds_a_country_scoped_user_and_the_audit_names_the_admin_not_the_password(context, request_token):
    result = admin.perform(
        "add",
        context,
        ADMIN,
        request_token,
        {"name": "dora", "role": "analyst", "password": PASSWORD, "country": "DEU"},
        CLIENT,
    )
    assert result == admin.ActionResult(True, "Added dora as analyst, scoped to DEU.")
    assert context.users.authenticate("dora", PASSWORD).country == "DEU"
    added = newest(context, "user_added")
    assert (added.user, added.client, added.detail) == (
        "ada",
        CLIENT,
        {"name": "dora", "role": "analyst", "country": "DEU"},
    )
    assert PASSWORD not in str(context.audit.recent(50))
    rows = admin.users_rows(context, ADMIN)
    assert [(r["name"], r["role"], r["scope"], r["enabled"]) for r in rows] == [
        ("ada", "admin", "all countries", "yes"),
        ("dora", "analyst", "DEU", "yes"),
        ("vic", "viewer", "all countries", "yes"),
    ]


def test_bad_input_comes_back_as_a_message_naming_the_field(context, request_token):
    short = admin.perform("add", context, ADMIN, request_token, {"name": "bob", "role": "viewer", "password": "short"})
    assert not short.ok and short.message.startswith("password: too short")
    taken = admin.perform("add", context, ADMIN, request_token, {"name": "vic", "role": "viewer", "password": PASSWORD})
    assert not taken.ok and "exists" in taken.message
    nobody = admin.perform("disable", context, ADMIN, request_token, {"target": None})
    assert nobody == admin.ActionResult(False, "Choose a user first.")
    assert [u.name for u in context.users.list()] == ["ada", "vic"]


def test_disabling_and_enabling_a_user_is_audited_and_ends_their_sign_in(context, request_token):
    assert admin.perform("disable", context, ADMIN, request_token, {"target": "vic"}, CLIENT).ok
    assert context.users.authenticate("vic", PASSWORD) is None
    assert (newest(context, "user_disabled").user, newest(context, "user_disabled").detail) == ("ada", {"name": "vic"})
    again = admin.perform("disable", context, ADMIN, request_token, {"target": "vic"})
    assert again == admin.ActionResult(False, "vic is already disabled.")
    assert admin.perform("enable", context, ADMIN, request_token, {"target": "vic"}).ok
    assert context.users.authenticate("vic", PASSWORD) is not None
    assert newest(context, "user_enabled").detail == {"name": "vic"}


def test_an_admin_cannot_lock_themself_or_everybody_out(context, request_token):
    myself = admin.perform("disable", context, ADMIN, request_token, {"target": "ada"})
    assert myself == admin.ActionResult(False, "You cannot disable yourself.")
    demote = admin.perform("set_role", context, ADMIN, request_token, {"target": "ada", "target_role": "viewer"})
    assert not demote.ok and "your own admin role" in demote.message
    context.users.add("bea", "admin", PASSWORD, actor="(test setup)")
    context.users.set_enabled("ada", False, actor="(test setup)")
    last = admin.perform("disable", context, CurrentUser("bea", "admin", None), request_token, {"target": "bea"})
    assert not last.ok
    assert context.users.get("bea").enabled and context.users.get("ada").role == "admin"


def test_changing_a_role_is_done_and_audited_with_the_old_and_new_role(context, request_token):
    result = admin.perform(
        "set_role", context, ADMIN, request_token, {"target": "vic", "target_role": "analyst"}, CLIENT
    )
    assert result == admin.ActionResult(True, "vic is now analyst.")
    assert context.users.get("vic").role == "analyst"
    changed = newest(context, "role_changed")
    assert (changed.user, changed.client, changed.detail) == (
        "ada",
        CLIENT,
        {"name": "vic", "role": "analyst", "from": "viewer"},
    )
    same = admin.perform("set_role", context, ADMIN, request_token, {"target": "vic", "target_role": "analyst"})
    assert same == admin.ActionResult(False, "vic is already analyst.")
    unknown = admin.perform("set_role", context, ADMIN, request_token, {"target": "vic", "target_role": "root"})
    assert not unknown.ok and "unknown role" in unknown.message
    assert len(context.audit.recent(50, {"event": "role_changed"})) == 1


# --- audit log ---------------------------------------------------------------------------------


def test_the_audit_log_lists_the_newest_events_first_and_filters_by_user_and_event(context):
    context.audit.record("login_success", "vic", {}, CLIENT)
    context.audit.record("page_view", "vic", {"path": "/trends", "filters": {"country": ["DEU"]}}, CLIENT)
    context.audit.record("login_success", "ada", {}, CLIENT)
    rows = admin.audit_rows(context, ADMIN)
    assert [row["event"] for row in rows[:3]] == ["login_success", "page_view", "login_success"]
    assert rows[0]["id"] > rows[1]["id"] > rows[2]["id"]
    assert [(r["event"], r["user"]) for r in admin.audit_rows(context, ADMIN, user_filter="vic")] == [
        ("page_view", "vic"),
        ("login_success", "vic"),
    ]
    views = admin.audit_rows(context, ADMIN, user_filter="vic", event_filter="page_view")
    assert len(views) == 1 and views[0]["detail"] == '{"filters":{"country":["DEU"]},"path":"/trends"}'
    with pytest.raises(admin.AdminActionError, match="unknown"):
        admin.audit_rows(context, ADMIN, event_filter="drop_table")


def test_the_chain_status_reports_an_intact_log_and_finds_an_edited_row(context):
    status = admin.chain_status(context, ADMIN)
    assert status.ok and status.text.startswith("Audit chain intact: 2 rows verified")
    con = sqlite3.connect(context.audit.path)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("UPDATE audit_log SET user_name = 'someone' WHERE id = 1")
    con.commit()
    con.close()
    broken = admin.chain_status(context, ADMIN)
    assert not broken.ok and broken.text.startswith("AUDIT CHAIN BROKEN at row 1")
