"""Login, roles, audit and headers of the real dashboard app (`create_app`), through Flask's test client."""

from __future__ import annotations

import itertools
import json
import re

import dash
import flask
import pytest

from dashboards import ids
from dashboards.auth import current_user, require_role, scoped_countries, user_may_export
from dashboards.auth.context import auth_context
from dashboards.auth.testing import TEST_PASSWORD, csrf_token, ensure_user, log_in
from warehouse import connect, ensure_schema

DASH_ENDPOINTS = ("/_dash-layout", "/_dash-dependencies", "/_reload-hash")
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
_addresses = (f"10.1.{i // 250}.{i % 250 + 1}" for i in itertools.count())


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app per module on an empty real warehouse, with its own $GRACE_HOME and four users."""
    home = tmp_path_factory.mktemp("auth_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRACE_HOME", str(home))
        patch.setenv("GRACE_ARGON2_PROFILE", "test-only-cheapest")
        patch.delenv("GRACE_SECURE_COOKIES", raising=False)
        path = home / "warehouse.duckdb"
        con = connect(path)
        ensure_schema(con)
        con.close()
        from dashboards.app_factory import create_app

        app = create_app(path)

    @app.server.get("/test/analyst-only")
    @require_role("analyst", "admin")
    def analyst_only():
        return {"ok": True}

    @app.server.get("/test/who")
    def who():
        user = current_user()
        return {
            "name": user.name,
            "role": user.role,
            "country": user.country,
            "may_export": user_may_export(),
            "countries": scoped_countries(flask.request.args.getlist("country")),
        }

    for name, role, country in (
        ("vic", "viewer", None),
        ("ana", "analyst", None),
        ("adm", "admin", None),
        ("pol", "analyst", "POL"),
    ):
        ensure_user(app, name, role, country=country)
    return app


@pytest.fixture
def audit(app):
    return auth_context(app.server).audit


def client_of(app, address: str | None = None):
    """A test client from its own address, so one test's failed logins never rate-limit another."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address or next(_addresses)
    return client


def signed_in(app, name: str):
    client = client_of(app)
    response = log_in(client, name)
    assert response.status_code == 302, response.data[:300]
    return client


def route_to(client, pathname: str, search: str = ""):
    """The request Dash's page router sends when a page is opened or its URL changes."""
    return client.post(
        "/_dash-update-component",
        json={
            "output": ROUTER_OUTPUT,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {"id": "_pages_location", "property": "search", "value": search},
            ],
            "changedPropIds": ["_pages_location.pathname"],
            "state": [],
        },
    )


# --- nothing without a login ------------------------------------------------------------------


def test_every_page_redirects_to_the_login_with_the_page_as_next(app):
    client = client_of(app)
    paths = sorted({page["path"] for page in dash.page_registry.values()} | {"/", "/no-such-page"})
    assert "/admin" in paths
    for path in paths:
        response = client.get(path + "?country=DEU")
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/login?next=" + (path + "?country=DEU").replace("/", "%2F").replace(
            "?", "%3F"
        ).replace("=", "%3D")


def test_dash_endpoints_callbacks_and_exports_answer_401_json_without_a_login(app):
    client = client_of(app)
    for path in (*DASH_ENDPOINTS, "/export/anything", "/export/overview-monthly.png"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json() == {"error": "authentication required", "login": "/login"}
    assert route_to(client, "/").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401


def test_the_login_page_and_static_files_need_no_login(app):
    client = client_of(app)
    page = client.get("/login")
    assert page.status_code == 200
    text = page.data.decode()
    assert "RESTRICTED — law-enforcement use only" in text and 'autocomplete="current-password"' in text
    assert '<label for="username">' in text and '<label for="password">' in text
    assert client.get("/auth-static/auth.css").status_code == 200
    assert client.get("/assets/grace.css").status_code == 200
    suites = re.findall(r'src="(/_dash-component-suites/[^"]+)"', client.get("/login").data.decode())
    assert suites == []  # the login page loads no Dash code
    assert client.get("/_favicon.ico").status_code == 200


# --- signing in and out -----------------------------------------------------------------------


def test_signing_in_opens_the_pages_and_sets_a_safe_session_cookie(app, audit):
    client = client_of(app)
    response = log_in(client, "ana", next_="/?country=DEU")
    assert response.status_code == 302 and response.headers["Location"] == "/?country=DEU"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("grace_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie and "Expires=" in cookie
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/login").status_code == 302  # already signed in
    entry = audit.recent(1, {"event": "login_success"})[0]
    assert (entry.user, entry.detail) == ("ana", {"role": "analyst", "country": None})


def test_secure_cookies_can_be_required(tmp_path, monkeypatch):
    monkeypatch.setenv("GRACE_SECURE_COOKIES", "1")
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    con.close()
    from dashboards.app_factory import create_app

    other = create_app(path)
    ensure_user(other, "ana", "analyst")
    response = log_in(client_of(other), "ana")
    assert response.status_code == 302 and "; Secure" in response.headers["Set-Cookie"]


def test_a_wrong_password_is_refused_and_audited_without_the_password(app, audit):
    client = client_of(app, "10.2.0.1")
    response = log_in(client, "ana", "not the right password")
    assert response.status_code == 401 and b"Wrong user name or password." in response.data
    assert client.get("/").status_code == 302
    entry = audit.recent(1, {"event": "login_failure"})[0]
    assert (entry.user, entry.client, entry.detail) == ("ana", "10.2.0.1", {})
    typed_into_name = log_in(client, "Pa$$word typed as a name")
    assert typed_into_name.status_code == 401
    assert audit.recent(1, {"event": "login_failure"})[0].user is None
    assert "not the right password" not in json.dumps([e.as_dict() for e in audit.recent(50)])


def test_five_failed_logins_from_one_address_give_429_even_for_the_right_password(app, audit):
    ensure_user(app, "unlucky", "viewer")
    client = client_of(app, "10.3.0.1")
    for n in range(5):  # five names, so only the per-address rule counts them together
        assert log_in(client, f"guess{n}", "not the right password").status_code == 401
    refused = log_in(client, "unlucky")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "300"
    assert b"Too many failed sign-ins. Wait 5 minutes" in refused.data
    assert audit.recent(1, {"event": "login_rate_limited"})[0].detail == {"by": "client"}
    assert log_in(client_of(app), "adm").status_code == 302  # other addresses and users still sign in


def test_five_failed_logins_for_one_user_name_slow_that_name_from_new_addresses_only(app, audit):
    ensure_user(app, "target", "viewer")
    usual = client_of(app)
    assert log_in(usual, "target").status_code == 302  # the real user's address, known from now on
    for _ in range(5):
        assert log_in(client_of(app), "target", "not the right password").status_code == 401
    slowed = log_in(client_of(app), "target")
    assert slowed.status_code == 429 and 1 <= int(slowed.headers["Retry-After"]) <= 15
    assert audit.recent(1, {"event": "login_rate_limited"})[0].detail == {"by": "user name"}
    assert log_in(client_of(app, usual.environ_base["REMOTE_ADDR"]), "target").status_code == 302


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_login_without_the_forms_csrf_token_is_refused_with_400(app, token):
    client = client_of(app)
    client.get("/login")
    data = {"username": "ana", "password": TEST_PASSWORD, "next": "/"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400 and b"This form has expired or did not come from this site" in response.data
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/trends?country=DEU", "/trends?country=DEU"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/logout", "/"),
        ("", "/"),
    ],
)
def test_after_login_only_same_site_paths_are_followed(app, target, expected):
    response = log_in(client_of(app), "vic", next_=target)
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_signing_out_needs_the_csrf_token_ends_the_session_and_is_audited(app, audit):
    client = signed_in(app, "vic")
    confirm = client.get("/logout")
    assert confirm.status_code == 200 and b"Signed in as <strong>vic</strong>" in confirm.data
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(confirm.data)})
    assert response.status_code == 302 and response.headers["Location"] == "/login?signed_out=1"
    assert client.get("/").status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    assert audit.recent(1, {"event": "logout"})[0].user == "vic"
    assert b"You have signed out." in client.get("/login?signed_out=1").data


def test_a_disabled_user_cannot_sign_in_and_their_open_session_ends(app):
    ensure_user(app, "leaver", "analyst")
    client = signed_in(app, "leaver")
    assert client.get("/_dash-layout").status_code == 200
    auth_context(app.server).users.set_enabled("leaver", False)
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302
    assert log_in(client_of(app), "leaver").status_code == 401


def test_a_new_password_ends_open_sessions(app):
    ensure_user(app, "rotator", "viewer")
    client = signed_in(app, "rotator")
    auth_context(app.server).users.set_password("rotator", "a fresh long passphrase")
    assert client.get("/").status_code == 302
    assert log_in(client_of(app), "rotator", "a fresh long passphrase").status_code == 302


def test_a_session_older_than_its_lifetime_ends(app):
    client = signed_in(app, "vic")
    with client.session_transaction() as session:
        session["at"] -= int(auth_context(app.server).lifetime.total_seconds()) + 1
    assert client.get("/").status_code == 302


# --- roles ------------------------------------------------------------------------------------


def test_a_viewer_may_not_export_or_use_an_analyst_route(app, audit):
    client = signed_in(app, "vic")
    assert client.get("/test/who").get_json()["may_export"] is False
    response = client.get("/export/overview-monthly.csv")
    assert response.status_code == 403 and "you are viewer" in response.get_json()["error"]
    assert client.get("/test/analyst-only").status_code == 403
    denied = audit.recent(1, {"event": "access_denied"})[0]
    assert (denied.user, denied.detail) == ("vic", {"path": "/test/analyst-only", "needs": ["analyst", "admin"]})
    analyst = signed_in(app, "ana")
    assert analyst.get("/test/analyst-only").get_json() == {"ok": True}
    assert analyst.get("/test/who").get_json()["may_export"] is True


def test_a_role_guarded_route_sends_an_anonymous_browser_to_the_login(app):
    response = client_of(app).get("/test/analyst-only")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_only_admins_get_the_admin_page_whether_loaded_or_routed_to(app):
    for name in ("vic", "ana"):
        client = signed_in(app, name)
        assert client.get("/admin").status_code == 403
        assert route_to(client, "/admin").status_code == 403
        assert route_to(client, "/").status_code == 200
    admin = signed_in(app, "adm")
    assert admin.get("/admin").status_code == 200
    routed = route_to(admin, "/admin")
    assert routed.status_code == 200 and ids.ADMIN_CONSOLE in routed.data.decode()


def test_a_country_scoped_user_always_gets_their_country(app):
    scoped = signed_in(app, "pol").get("/test/who?country=DEU&country=FRA").get_json()
    assert scoped == {"name": "pol", "role": "analyst", "country": "POL", "may_export": True, "countries": ["POL"]}
    free = signed_in(app, "ana").get("/test/who?country=DEU&country=FRA").get_json()
    assert free["countries"] == ["DEU", "FRA"]
    assert scoped_countries(["DEU"]) == ["DEU"]  # outside a request: unchanged (plain-function tests)


# --- audit of page views ----------------------------------------------------------------------


def test_opening_a_page_writes_a_page_view_row_with_its_filters(app, audit):
    client = signed_in(app, "ana")
    assert route_to(client, "/", "?country=DEU&country=FRA&platform=ChatApp").status_code == 200
    entry = audit.recent(1, {"event": "page_view"})[0]
    assert entry.user == "ana"
    assert entry.detail == {"path": "/", "filters": {"country": ["DEU", "FRA"], "platform": ["ChatApp"]}}
    assert audit.verify_chain().ok


# --- headers ----------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(app):
    client = signed_in(app, "ana")
    for path in ("/", "/_dash-layout", "/login", "/assets/grace.css", "/export/nothing-here"):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/assets/grace.css").headers.get("Cache-Control") != "no-store"


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_audited(tmp_path, monkeypatch):
    monkeypatch.setenv("GRACE_TRUSTED_PROXIES", "1")
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    con.close()
    from dashboards.app_factory import create_app

    proxied = create_app(path)
    client = client_of(proxied, "10.0.0.254")
    token = csrf_token(client.get("/login").data)
    client.post(
        "/login",
        data={"csrf_token": token, "username": "ana", "password": "wrong password!"},
        headers={"X-Forwarded-For": "192.0.2.7"},
    )
    assert auth_context(proxied.server).audit.recent(1, {"event": "login_failure"})[0].client == "192.0.2.7"


def test_the_shell_helpers_show_pages_by_role_and_label_the_user():
    from dashboards.auth.components import page_visible_to, sign_out_link, user_label
    from dashboards.auth.session import CurrentUser

    admin_page = {"path": "/admin", "roles": ("admin",)}
    viewer = CurrentUser("vic", "viewer", None)
    assert page_visible_to({"path": "/"}, viewer) and not page_visible_to(admin_page, viewer)
    assert page_visible_to(admin_page, CurrentUser("adm", "admin", None))
    assert not page_visible_to(admin_page, None)
    assert user_label(CurrentUser("pol", "analyst", "POL")) == "pol · analyst · POL"
    assert user_label() == ""  # outside a request
    assert sign_out_link().href == "/logout"


def test_the_account_menu_shows_the_user_and_a_sign_out_form_with_a_valid_csrf_token(app):
    from flask_wtf.csrf import validate_csrf

    from dashboards.auth.components import account_menu

    assert account_menu() is None  # outside a request
    with app.server.test_request_context("/_dash-layout"):
        assert account_menu() is None  # nobody signed in
        flask.g.grace_user = auth_context(app.server).users.get("pol")
        menu = json.dumps(account_menu().to_plotly_json(), default=lambda c: c.to_plotly_json(), ensure_ascii=False)
        assert "pol · analyst · POL" in menu and '"action": "/logout"' in menu and '"method": "post"' in menu
        hidden = [c for c in account_menu()._traverse() if getattr(c, "name", None) == "csrf_token"]
        assert len(hidden) == 1 and hidden[0].type == "hidden"
        validate_csrf(hidden[0].value)


def change_filters(client, countries, platforms, current: str = ""):
    """What the Overview's filter bar sends when the analyst changes it (its state-sync callback)."""
    sync = next(d for d in client.get("/_dash-dependencies").get_json() if d["output"].startswith("..overview-state."))
    values = (countries, platforms, None, None)
    return client.post(
        "/_dash-update-component",
        json={
            "output": sync["output"],
            "outputs": [{"id": "overview-state", "property": "data"}, {"id": ids.URL_SYNC, "property": "search"}],
            "inputs": [{**item, "value": value} for item, value in zip(sync["inputs"], values)],
            "state": [{"id": "overview-state", "property": "data", "value": current}],
            "changedPropIds": ["overview-filter-country.value"],
        },
    )


def test_changing_filters_writes_the_served_view_once(app, audit):
    client = signed_in(app, "ana")
    assert route_to(client, "/", "?country=AUT").status_code == 200
    before = len(audit.recent(1000, {"event": "page_view", "user": "ana"}))
    assert change_filters(client, ["AUT"], ["ChatApp"], "?country=AUT").status_code == 200
    assert change_filters(client, ["AUT"], ["ChatApp"], "?country=AUT").status_code == 200  # a repeat: one view
    entry = audit.recent(1, {"event": "page_view", "user": "ana"})[0]
    assert entry.detail == {"path": "/", "filters": {"country": ["AUT"], "platform": ["ChatApp"]}}
    assert len(audit.recent(1000, {"event": "page_view", "user": "ana"})) == before + 1
