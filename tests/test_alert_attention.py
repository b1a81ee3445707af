"""Alert fatigue (issue 9, item 8): the materiality rule, "new since the previous run", and per-user
acknowledge / dismiss / reopen — audited, within the user's scope — so that the Alerts page and the
Overview show what still needs attention. Real DuckDB warehouse, real SQLite auth store, the real app."""

from __future__ import annotations

import shutil

import dashboard_warehouse as synthetic
import pytest
from test_dashboard_alerts import EXTRA, add_anomalies
from test_security import app_with_users, call, signed_in

from analytics.alerting import is_material, relative_change
from analytics.results import AlertParams, AnalysisParams
from dashboards import ids
from dashboards.auth.context import auth_context
from dashboards.auth.reviews import AlertReviews, ReviewError, parse_alert_key
from dashboards.callbacks import alerts, overview
from dashboards.state import ViewState
from grace.scope import Scope, ScopeError
from warehouse import WarehouseReader, connect

OWN = "POL"


# --- the materiality rule --------------------------------------------------------------------


def test_an_alert_is_material_only_with_both_a_relative_and_an_absolute_change():
    rule = AlertParams()  # 20 %, and 10 per period (counts) or 2 points (shares)
    assert is_material("referrals", 100, 130, rule)  # +30 %, +30
    assert not is_material("referrals", 3, 6, rule)  # +100 % but only +3: a small country's noise
    assert not is_material("referrals", 1000, 1100, rule)  # +10 %
    assert is_material("self_generated_share", 0.10, 0.14, rule)  # +40 %, +4 points
    assert not is_material("self_generated_share", 0.010, 0.015, rule)  # +50 %, half a point
    assert is_material("time_to_triage_days", 2.0, 3.0, rule)  # days: the relative rule alone
    assert is_material("referrals", 0, 25, rule) and relative_change(0, 25) == 1.0
    assert not is_material("referrals", None, 25, rule)
    assert is_material("referrals", 3, 6, AlertParams(min_count_change=2))  # configurable


# --- stored with every run -------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return synthetic.build(tmp_path_factory.mktemp("attention") / "plain.duckdb")


def _alerts(path, run_id):
    con = connect(path, read_only=True)
    try:
        return con.execute("SELECT * FROM analytics_alert WHERE run_id = ? ORDER BY alert_key", [run_id]).df()
    finally:
        con.close()


def test_a_run_marks_each_alert_material_or_not_and_a_repeat_run_marks_nothing_new(plain, tmp_path):
    from analytics.warehouse_run import run_analysis

    path = tmp_path / "warehouse.duckdb"
    shutil.copy(plain, path)
    first = run_analysis(path, metrics=["referrals", "files"], grains=["month", "week"])
    stored = _alerts(path, first.run_id)
    assert len(stored) > 0 and stored["is_new"].all()  # nothing was analysed before
    expected = [is_material(r.metric, r.before, r.after, AlertParams()) for r in stored.itertuples(index=False)]
    assert stored["material"].tolist() == expected

    strict = run_analysis(
        path,
        metrics=["referrals", "files"],
        grains=["month", "week"],
        params=AnalysisParams(alerts=AlertParams(min_relative=10.0)),
    )
    again = _alerts(path, strict.run_id)
    assert again["alert_key"].tolist() == stored["alert_key"].tolist()  # same data, same alerts
    assert not again["is_new"].any()  # … none of them new
    assert not again["material"].any()  # a 1,000 % rule: nothing material


# --- reviews in the auth store ---------------------------------------------------------------


KEY = "referrals|month|country|POL|anomaly|2023-05-01"


def test_reviews_are_per_user_replaced_by_a_later_action_and_each_one_is_audited(tmp_path):
    from dashboards.auth.audit import AuditLog

    store = tmp_path / "auth.sqlite"
    reviews = AlertReviews(store)
    assert reviews.review("ana", [KEY, KEY], "acknowledge", "10.0.0.1") == 1
    assert reviews.review("bob", [KEY], "dismiss") == 1
    assert reviews.of_user("ana") == {KEY: "acknowledged"} and reviews.of_user("bob") == {KEY: "dismissed"}
    reviews.review("ana", [KEY], "dismiss")
    assert reviews.of_user("ana") == {KEY: "dismissed"}
    reviews.review("ana", [KEY], "reopen")
    assert reviews.of_user("ana") == {} and reviews.of_user("bob") == {KEY: "dismissed"}
    log = AuditLog(store)
    events = [
        (e.event, e.user, e.detail["alert_key"]) for e in reversed(log.recent(100)) if e.event.startswith("alert_")
    ]
    assert events == [
        ("alert_acknowledged", "ana", KEY),
        ("alert_dismissed", "bob", KEY),
        ("alert_dismissed", "ana", KEY),
        ("alert_reopened", "ana", KEY),
    ]
    assert log.verify_chain().ok


def test_a_malformed_key_or_action_records_nothing(tmp_path):
    reviews = AlertReviews(tmp_path / "auth.sqlite")
    with pytest.raises(ReviewError, match="not series"):
        reviews.review("ana", [KEY, "referrals|month|anomaly|2023-05-01"], "acknowledge")
    with pytest.raises(ReviewError, match="not series"):
        parse_alert_key("referrals|month|country|POL|anomaly|2023-13-01")
    with pytest.raises(ReviewError, match="action"):
        reviews.review("ana", [KEY], "delete")
    assert reviews.of_user("ana") == {}


def test_a_user_may_review_only_alerts_within_the_scope():
    view = alerts.AlertsView(state=ViewState().within(Scope.of_countries([OWN])))
    assert alerts.review_keys(view, [KEY]) == [KEY]
    for key in ("referrals|month|country|DEU|anomaly|2023-05-01", "referrals|month|none|total|anomaly|2023-05-01"):
        with pytest.raises(ScopeError):
            alerts.review_keys(view, [KEY, key])


# --- what the pages show ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysed(plain, tmp_path_factory):
    """The synthetic warehouse analysed once, plus anomalies on several countries and the EU total."""
    from analytics.warehouse_run import run_analysis

    path = tmp_path_factory.mktemp("attention_run") / "warehouse.duckdb"
    shutil.copy(plain, path)
    run = run_analysis(path, metrics=["referrals"], grains=["month"])
    add_anomalies(path, run.run_id)
    return path


def test_the_alerts_table_lists_what_needs_attention_and_hides_what_the_user_reviewed(analysed):
    reader = WarehouseReader(analysed)
    view = alerts.AlertsView(state=ViewState().within(Scope.everything()))
    everything = alerts.tables(reader, view.with_changes(show="all"))
    attention = alerts.tables(reader, view)
    assert len(attention.alerts) <= len(everything.alerts)
    assert "need your attention" in attention.count
    material = attention.alerts
    assert len(material) >= len(EXTRA)  # the synthetic anomalies change by 20 % or more of 100
    chosen = material[0]["alert_key"]
    reviewed = {chosen: "acknowledged"}
    after = alerts.tables(reader, view, reviewed)
    assert chosen not in {row["alert_key"] for row in after.alerts}
    assert len(after.alerts) == len(attention.alerts) - 1
    mine = alerts.tables(reader, view.with_changes(show="reviewed"), reviewed)
    assert [(row["alert_key"], row["review"]) for row in mine.alerts] == [(chosen, "Acknowledged")]
    insights = overview.latest_insights(reader, ViewState().within(Scope.everything()), reviewed=reviewed)
    assert insights.attention.startswith(f"{len(after.alerts):,} alert(s) need your attention")


def test_the_show_choice_round_trips_through_the_address_and_is_validated():
    view = alerts.AlertsView.from_query("?show=reviewed&kind=anomaly")
    assert view.show == "reviewed" and "show=reviewed" in view.to_query()
    assert "show" not in alerts.AlertsView.from_query("").to_query()
    with pytest.raises(Exception, match="show"):
        alerts.AlertsView.from_query("?show=everything")


# --- through the real app --------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(analysed, tmp_path_factory):
    users = (("ana", "analyst", None), ("pol", "analyst", OWN), ("vic", "viewer", None))
    return app_with_users(analysed, tmp_path_factory.mktemp("attention_home"), users)


def _review(client, action_button: str, rows: list[dict], query: str = ""):
    return call(
        client,
        f"..{ids.ALERTS_REVIEWED}.data",
        {
            f"{action_button}.n_clicks": 1,
            f"{ids.ALERTS_TABLE}.derived_virtual_data": rows,
            f"{ids.ALERTS_TABLE}.derived_virtual_selected_rows": list(range(len(rows))),
            f"{ids.ALERTS_STATE}.data": query,
            f"{ids.ALERTS_REVIEWED}.data": 0,
        },
    )


def _events(app, event: str, user: str):
    return auth_context(app.server).audit.recent(1000, {"event": event, "user": user})


def test_an_analyst_acknowledges_ticked_rows_through_the_page_and_the_audit_log_records_it(app):
    client = signed_in(app, "ana")
    key = f"referrals|month|country|{EXTRA[0][0]}|anomaly|{EXTRA[0][1]}"
    response = _review(client, ids.ALERTS_ACKNOWLEDGE, [{"alert_key": key}])
    assert response.status_code == 200, response.data
    assert "1 alert(s) acknowledged by ana" in response.get_data(as_text=True)
    assert auth_context(app.server).reviews.of_user("ana") == {key: "acknowledged"}
    assert [e.detail for e in _events(app, "alert_acknowledged", "ana")] == [{"alert_key": key}]


def test_a_viewer_cannot_review_and_a_scoped_analyst_cannot_review_another_country(app):
    key = f"referrals|month|country|{EXTRA[0][0]}|anomaly|{EXTRA[0][1]}"
    viewer = _review(signed_in(app, "vic"), ids.ALERTS_DISMISS, [{"alert_key": key}])
    assert "only analysts and admins" in viewer.get_data(as_text=True)
    assert auth_context(app.server).reviews.of_user("vic") == {}

    scoped = _review(signed_in(app, "pol"), ids.ALERTS_DISMISS, [{"alert_key": key}])
    assert "outside your scope" in scoped.get_data(as_text=True)
    assert auth_context(app.server).reviews.of_user("pol") == {}
    assert _events(app, "access_denied", "pol")
