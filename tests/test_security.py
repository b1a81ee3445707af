"""The security review's findings, each reproduced against the real app (`create_app`, real DuckDB,
real SQLite auth store) through Flask's test client, with users of every role and one scoped to POL.

The centre is the scope matrix: every kind of analysed series (the EU total, the user's own country,
another country, a platform) through every data path that can show one (the Alerts chart callback,
its CSV export, its briefing pack, the Trend explorer export), for an unscoped and a scoped analyst.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor

import dashboard_warehouse as synthetic
import pandas as pd
import pytest
from test_dashboard_alerts import add_anomalies

from dashboards import charts, ids
from dashboards.auth.context import auth_context
from dashboards.auth.testing import csrf_token, ensure_user, log_in
from dashboards.callbacks import alerts, overview
from dashboards.charts import Chart, ChartData, register_chart
from dashboards.exports.routes import ExportSlots
from dashboards.state import ViewState
from grace.errors import ConfigError
from grace.scope import Scope, ScopeError
from warehouse import QueryTimeout, WarehouseReader

OWN = "POL"
SERIES = {  # kind of series -> its id in the analysed run
    "eu_total": "referrals|month|none|total",
    "own_country": f"referrals|month|country|{OWN}",
    "other_country": "referrals|month|country|DEU",
    "platform": "referrals|month|platform|ChatApp",
}
VISIBLE_TO_SCOPED = {"own_country"}
EU_WIDE_CHARTS = (
    "operations-row-accounting",
    "operations-quarantine-reasons",
    "operations-quarantine-fields",
    "operations-throughput",
    "forecasts-backlog",
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The synthetic dashboard warehouse, analysed (monthly referrals), with anomalies on DEU, FRA, ITA, the
    EU total and one on the scoped user's own country and one on a platform."""
    from analytics.warehouse_run import run_analysis
    from warehouse import connect

    root = tmp_path_factory.mktemp("security")
    path = root / "warehouse.duckdb"
    shutil.copy(synthetic.build(root / "plain.duckdb"), path)
    run = run_analysis(path, metrics=["referrals"], grains=["month"])
    add_anomalies(path, run.run_id)
    con = connect(path)
    for split, entity in (("country", OWN), ("platform", "ChatApp")):
        synthetic.insert(
            con,
            "analytics_anomaly",
            f"""
            SELECT '{run.run_id}' AS run_id, 'referrals|month|{split}|{entity}' AS series_id, 'referrals' AS metric,
                   'month' AS grain, '{split}' AS split_by, '{entity}' AS entity, DATE '2023-05-01' AS date,
                   150.0 AS value, 100.0 AS expected, 50.0 AS magnitude, 0.5 AS relative, 'up' AS direction,
                   6.0 AS score""",
        )
    synthetic.refresh_alerts(con, run.run_id)
    con.close()
    return path


def app_with_users(warehouse, home, users) -> object:
    """The real app on `warehouse` with its auth store in `home`, and the given (name, role, country) users."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRACE_HOME", str(home))
        patch.setenv("GRACE_ARGON2_PROFILE", "test-only-cheapest")
        patch.setenv("GRACE_READER_IDLE_SECONDS", "0")
        from dashboards.app_factory import create_app

        app = create_app(warehouse)
    for name, role, country in users:
        ensure_user(app, name, role, country=country)
    return app


@pytest.fixture(scope="module")
def app(warehouse, tmp_path_factory):
    users = (("ana", "analyst", None), ("pol", "analyst", OWN), ("vic", "viewer", None), ("adm", "admin", None))
    return app_with_users(warehouse, tmp_path_factory.mktemp("security_home"), users)


_address = iter(range(1, 10_000))


def client_of(app, address: str | None = None):
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address or f"10.77.{next(_address) // 250}.{next(_address) % 250 + 1}"
    return client


def signed_in(app, name: str):
    client = client_of(app)
    assert log_in(client, name).status_code == 302
    return client


@pytest.fixture(scope="module")
def clients(app):
    return {"unscoped": signed_in(app, "ana"), "scoped": signed_in(app, "pol")}


def audit_rows(app, event: str, user: str) -> list:
    return auth_context(app.server).audit.recent(1000, {"event": event, "user": user})


def csv_rows(body: bytes) -> list[dict]:
    """The data rows of an exported CSV (below its `# …` marking lines)."""
    lines = [line for line in body.decode("utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def call(client, output_start: str, values: dict[str, object]):
    """Call the Dash callback whose output starts with `output_start`, its inputs and states given by
    `component.property` keys (as the browser would send them)."""
    spec = next(d for d in client.get("/_dash-dependencies").get_json() if d["output"].startswith(output_start))

    def filled(items):
        return [{**item, "value": values.get(f"{item['id']}.{item['property']}")} for item in items]

    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]} for part in spec["output"].strip(".").split("...")
    ]
    return client.post(
        "/_dash-update-component",
        json={
            "output": spec["output"],
            "outputs": outputs,
            "inputs": filled(spec["inputs"]),
            "state": filled(spec["state"]),
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]],
        },
    )


# --- the one rule ------------------------------------------------------------------------------


def test_a_scope_lets_a_country_user_see_only_own_country_series_and_no_eu_wide_view():
    scope = Scope.of_countries([OWN])
    assert [kind for kind, series in SERIES.items() if scope.allows_series(*series.split("|")[2:])] == ["own_country"]
    assert not scope.eu_wide and Scope.everything().eu_wide
    assert scope.countries_for(["DEU"]) == (OWN,) and scope.countries_for([]) == (OWN,)
    assert Scope.everything().countries_for(["FRA", "DEU"]) == ("DEU", "FRA")
    assert Scope.everything().sql_countries is None and scope.sql_countries == [OWN]


def test_a_scoped_view_stays_scoped_when_it_is_changed():
    state = ViewState().within(Scope.of_countries([OWN]))
    assert state.country == (OWN,) and state.to_query() == "?country=POL"  # the scope is never in the URL
    assert state.with_changes(country=["DEU", "FRA"]).country == (OWN,)
    with pytest.raises(ScopeError, match="country DEU is outside your scope"):
        state.with_changes(series=SERIES["other_country"])
    assert ViewState(series="not a series id").within(Scope.everything()).series == "not a series id"
    with pytest.raises(ScopeError, match="cannot be checked"):
        ViewState(series="not a series id").within(Scope.of_countries([OWN]))


# --- item 1: the scope matrix ------------------------------------------------------------------


@pytest.mark.parametrize("user", ["unscoped", "scoped"])
@pytest.mark.parametrize("kind", list(SERIES))
def test_the_alerts_series_export_serves_a_series_only_within_the_users_scope(app, clients, user, kind):
    response = clients[user].get(f"/export/alerts-series.csv?series={SERIES[kind]}")
    if user == "unscoped" or kind in VISIBLE_TO_SCOPED:
        assert response.status_code == 200, response.data[:300]
        assert len(csv_rows(response.data)) > 0
        assert f"Series: {SERIES[kind]}" in response.data.decode()  # the label says what the file holds
    else:
        assert response.status_code == 403 and "outside your scope" in response.get_json()["error"]
        last = audit_rows(app, "access_denied", "pol")[0]
        assert last.detail["path"] == "/export/alerts-series.csv" and "outside your scope" in last.detail["reason"]


@pytest.mark.parametrize("user", ["unscoped", "scoped"])
@pytest.mark.parametrize("kind", list(SERIES))
def test_the_alerts_page_draws_a_series_only_within_the_users_scope(clients, user, kind):
    response = call(
        clients[user],
        f"..{ids.chart_graph('alerts-series')}.figure",
        {f"{ids.ALERTS_STATE}.data": f"?series={SERIES[kind]}"},
    )
    assert response.status_code == 200, response.data[:300]
    figure = response.get_json()["response"][ids.chart_graph("alerts-series")]["figure"]
    drawn = [trace for trace in figure["data"] if trace.get("y")]
    if user == "unscoped" or kind in VISIBLE_TO_SCOPED:
        assert drawn
    else:
        assert not drawn and "outside your scope" in json.dumps(figure["layout"])


@pytest.mark.parametrize("user", ["unscoped", "scoped"])
@pytest.mark.parametrize("kind", list(SERIES))
def test_the_alerts_briefing_pack_holds_a_series_only_within_the_users_scope(clients, user, kind):
    response = clients[user].get(f"/export/pack/alerts.zip?series={SERIES[kind]}")
    if user == "unscoped" or kind in VISIBLE_TO_SCOPED:
        assert response.status_code == 200, response.data[:300]
        with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        assert f"Series: {SERIES[kind]}" in manifest["filters"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("user", ["unscoped", "scoped"])
@pytest.mark.parametrize("kind", list(SERIES))
def test_the_trend_explorer_export_refuses_a_series_link_outside_the_scope(clients, user, kind):
    response = clients[user].get(f"/export/trends-explorer.csv?series={SERIES[kind]}&grain=month")
    allowed = user == "unscoped" or kind in VISIBLE_TO_SCOPED
    assert response.status_code == (200 if allowed else 403)
    if allowed and user == "scoped":
        assert {row["entity"] for row in csv_rows(response.data)} <= {OWN, "total"}


def test_a_scoped_users_exports_never_hold_another_countrys_rows(clients):
    response = clients["scoped"].get("/export/trends-explorer.csv?country=DEU&country=FRA&split=country&grain=month")
    assert response.status_code == 200
    assert {row["entity"] for row in csv_rows(response.data)} == {OWN}
    assert "Countries: POL" in response.data.decode()


# --- item 2: a platform filter never widens a scoped view ---------------------------------------


def test_a_platform_filter_does_not_widen_a_scoped_users_alerts_and_findings(warehouse):
    reader = WarehouseReader(warehouse)
    unscoped = alerts.tables(reader, alerts.AlertsView(state=ViewState(country=(OWN,), platform=("ChatApp",))))
    assert {row["series"] for row in unscoped.alerts} >= {f"{OWN} (country)", "ChatApp (platform)"}
    view = alerts.AlertsView(state=ViewState(platform=("ChatApp",)).within(Scope.of_countries([OWN])))
    scoped = alerts.tables(reader, view)
    assert scoped.alerts and {row["series"] for row in scoped.alerts} == {f"{OWN} (country)"}
    assert {row["series"] for row in scoped.findings} <= {f"{OWN} (country)"}
    every = alerts.tables(reader, alerts.AlertsView(state=ViewState().within(Scope.of_countries([OWN]))))
    assert {row["series"] for row in every.alerts} == {f"{OWN} (country)"}


def test_the_overview_insights_of_a_scoped_user_stay_in_the_scope(warehouse):
    reader = WarehouseReader(warehouse)
    state = ViewState(platform=("ChatApp",)).within(Scope.of_countries([OWN]))
    insights = overview.latest_insights(reader, state)
    shown = json.dumps([*insights.findings, *insights.alerts])
    assert "ChatApp" not in shown and "EU total" not in shown and "DEU" not in shown


# --- item 3: EU-wide charts are not exported to a scoped user ---------------------------------


@pytest.mark.parametrize("chart_id", EU_WIDE_CHARTS)
def test_eu_wide_charts_are_refused_to_a_scoped_user_and_served_to_others(clients, chart_id):
    assert clients["scoped"].get(f"/export/{chart_id}.csv").status_code == 403
    assert clients["unscoped"].get(f"/export/{chart_id}.csv").status_code == 200


def test_the_operations_pack_is_refused_and_the_forecasts_pack_withholds_the_backlog(clients):
    assert clients["scoped"].get("/export/pack/operations.zip").status_code == 403
    response = clients["scoped"].get("/export/pack/forecasts.zip")
    assert response.status_code == 200, response.data[:300]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = archive.namelist()
    assert [entry["chart_id"] for entry in manifest["withheld"]] == ["forecasts-backlog"]
    assert not any(name.startswith("forecasts-backlog") for name in names)


def test_no_export_carries_a_server_file_path(app, clients, warehouse):
    for chart_id in ("operations-row-accounting", "operations-throughput", "operations-quarantine-reasons"):
        body = clients["unscoped"].get(f"/export/{chart_id}.csv").data.decode()
        assert "source_path" not in body and str(warehouse.parent) not in body and "/tmp" not in body


# --- item 4: signing out ends the session on the server ---------------------------------------


def test_a_cookie_saved_before_sign_out_no_longer_opens_pages_or_exports(app):
    ensure_user(app, "leaver", "analyst")  # signing out ends every session of the user: not a shared one
    client = signed_in(app, "leaver")
    saved = client.get_cookie("grace_session").value
    assert client.get("/export/alerts-series.csv").status_code == 200
    token = csrf_token(client.get("/logout").data)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    replay = client_of(app)
    replay.set_cookie("grace_session", saved)
    assert replay.get("/").status_code == 302
    assert replay.get("/export/alerts-series.csv").status_code == 401
    assert signed_in(app, "leaver").get("/").status_code == 200  # signing in again works


# --- items 5 and 6: the login rate limit --------------------------------------------------------


def test_simultaneous_wrong_passwords_from_one_address_are_counted_before_any_finishes(app):
    ensure_user(app, "racer", "viewer")
    address = "10.66.0.1"
    prepared = []
    for _ in range(12):
        client = client_of(app, address)
        prepared.append((client, csrf_token(client.get("/login").data)))
    barrier = threading.Barrier(len(prepared))

    def attempt(pair):
        client, token = pair
        barrier.wait()
        return client.post(
            "/login", data={"csrf_token": token, "username": "racer", "password": "wrong " * 3, "next": "/"}
        ).status_code

    with ThreadPoolExecutor(len(prepared)) as pool:
        codes = list(pool.map(attempt, prepared))
    assert codes.count(401) <= 5 and codes.count(429) >= 7


def test_failed_sign_ins_from_other_addresses_do_not_lock_the_real_user_out(app):
    ensure_user(app, "victim", "analyst")
    home = client_of(app, "10.66.1.1")
    assert log_in(home, "victim").status_code == 302
    for n in range(8):
        log_in(client_of(app, f"10.66.2.{n + 1}"), "victim", "not the password")
    assert log_in(client_of(app, "10.66.1.1"), "victim").status_code == 302


# --- item 7: the audit log records what the server served ---------------------------------------


def test_no_callback_lets_a_client_write_a_page_view_of_its_choosing(app):
    client = signed_in(app, "vic")
    listeners = [
        d
        for d in client.get("/_dash-dependencies").get_json()
        if ids.URL_SYNC in [i["id"] for i in d["inputs"]] and not d["output"].strip(".")
    ]
    assert listeners == []  # no output-less listener records views the client claims
    before = audit_rows(app, "page_view", "vic")
    forged = client.post(
        "/_dash-update-component",
        json={
            "output": "..",
            "outputs": [],
            "changedPropIds": [f"{ids.URL_SYNC}.search"],
            "inputs": [{"id": ids.URL_SYNC, "property": "search", "value": "?country=DEU"}],
            "state": [{"id": ids.URL, "property": "pathname", "value": "/admin"}],
        },
    )
    assert forged.status_code >= 400
    assert audit_rows(app, "page_view", "vic") == before


@pytest.mark.parametrize("pathname", ["/admin", "//admin", "/admin/", "admin"])
def test_routing_to_a_page_the_role_may_not_see_is_refused_and_audited_as_denied(app, pathname):
    from test_auth_app import route_to

    client = signed_in(app, "vic")
    views = len(audit_rows(app, "page_view", "vic"))
    response = route_to(client, pathname)
    assert response.status_code == 403
    assert audit_rows(app, "access_denied", "vic")[0].detail["path"] == "/admin"
    assert len(audit_rows(app, "page_view", "vic")) == views


def test_a_routed_path_without_a_leading_slash_gets_400_not_500(app):
    from test_auth_app import route_to

    assert route_to(signed_in(app, "adm"), "alerts").status_code == 400


@pytest.fixture
def broken_chart():
    def explode(reader, state):
        raise RuntimeError("boom")

    chart = register_chart(
        Chart("security-broken", "/security-test", "Broken", "test", explode, lambda data, state: None)
    )
    yield chart
    charts._REGISTRY.pop(chart.chart_id, None)


def test_a_failed_export_is_audited(app, clients, broken_chart):
    assert clients["unscoped"].get("/export/security-broken.csv").status_code == 500
    entry = audit_rows(app, "export_failed", "ana")[0]
    assert entry.detail["chart"] == "security-broken" and entry.detail["error"] == "RuntimeError"


# --- item 8: one request cannot hold a worker for minutes ----------------------------------------


def test_a_body_over_the_limit_is_refused_with_413(clients):
    response = clients["unscoped"].post(
        "/_dash-update-component", data=b"x" * (2 << 20), content_type="application/json"
    )
    assert response.status_code == 413 and "GRACE_MAX_REQUEST_BYTES" in response.get_json()["error"]


def test_a_warehouse_query_past_the_timeout_is_stopped_with_a_clear_error(warehouse):
    reader = WarehouseReader(warehouse, idle_seconds=0, timeout_seconds=0.3)
    with pytest.raises(QueryTimeout, match="GRACE_QUERY_TIMEOUT_SECONDS"), reader.cursor() as con:
        con.execute("SELECT sum(a.range * b.range) FROM range(100000000) a, range(1000) b").fetchall()
    assert not reader.run("data_freshness").empty  # the reader still works afterwards


def test_the_timeout_and_limits_are_checked_settings(monkeypatch):
    from grace.settings import exports_per_user, query_timeout_seconds

    monkeypatch.setenv("GRACE_QUERY_TIMEOUT_SECONDS", "soon")
    with pytest.raises(ConfigError, match="GRACE_QUERY_TIMEOUT_SECONDS"):
        query_timeout_seconds()
    monkeypatch.setenv("GRACE_EXPORTS_PER_USER", "0")
    with pytest.raises(ConfigError, match="from 1 to 32"):
        exports_per_user()


def test_each_user_has_a_fixed_number_of_export_slots():
    slots = ExportSlots(1)
    with slots.slot("ana") as first, slots.slot("ana") as second, slots.slot("pol") as other:
        assert (first, second, other) == (True, False, True)
    with slots.slot("ana") as again:
        assert again


@pytest.fixture
def slow_chart():
    started, release = threading.Event(), threading.Event()

    def wait(reader, state):
        started.set()
        release.wait(10)
        return ChartData(frame=pd.DataFrame({"n": [20]}), count_columns=("n",), cell_columns=())

    chart = register_chart(Chart("security-slow", "/security-test", "Slow", "test", wait, lambda data, state: None))
    yield chart, started, release
    release.set()
    charts._REGISTRY.pop(chart.chart_id, None)


def test_exports_beyond_the_users_slots_get_429_while_others_still_export(app, slow_chart):
    _chart, started, release = slow_chart
    user = signed_in(app, "ana")
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(user.get, "/export/security-slow.csv") for _ in range(2)]
        started.wait(10)
        for _ in range(50):  # both slots taken
            refused = signed_in(app, "ana").get("/export/security-slow.csv")
            if refused.status_code == 429:
                break
        assert refused.status_code == 429 and "export(s) running" in refused.get_json()["error"]
        release.set()
        assert [future.result().status_code for future in running] == [200, 200]


# --- item 9: nothing about the server or the app for anonymous requests -------------------------


def test_responses_do_not_name_the_server_software(app, clients):
    for response in (clients["unscoped"].get("/"), client_of(app).get("/login")):
        assert response.headers["Server"] == "GRACE Trends"


@pytest.mark.parametrize("path", ["/assets/", "/assets/no-such-file.css", "/assets/../app.py"])
def test_the_app_shell_is_not_served_to_anonymous_requests(app, path):
    response = client_of(app).get(path)
    assert response.status_code in (302, 404)
    assert b"_dash-config" not in response.data
    assert client_of(app).get("/assets/grace.css").status_code == 200  # real static files stay public


@pytest.mark.parametrize("path", ["/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nope.js"])
def test_an_unknown_bundle_is_404_not_500(app, path):
    assert client_of(app).get(path).status_code == 404


def test_a_forecast_of_two_countries_is_a_400_with_a_reason(clients):
    response = clients["unscoped"].get("/export/forecasts-series.csv?country=DEU&country=FRA")
    assert response.status_code == 400 and "one country" in response.get_json()["error"]
