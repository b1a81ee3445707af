"""The Triage page against the real app (`create_app`, real DuckDB with a scored warehouse, real SQLite auth
store) through Flask's test client: an analyst scoped to one agency sees only that agency's referrals in the
queue, in search and in review; out-of-scope keys answer like absent ones and are audited; report numbers are
never logged; viewers get nothing."""

from __future__ import annotations

import json

import pytest
import triage_warehouse
from test_security import app_with_users, audit_rows, signed_in

from dashboards import ids
from dashboards.auth.context import auth_context
from dashboards.callbacks import triage
from grace.pseudonyms import referral_key
from warehouse import connect

AGENCY, COUNTRY = triage_warehouse.AGENCY, triage_warehouse.COUNTRY


@pytest.fixture(scope="module")
def app(triage_scored, tmp_path_factory):
    users = (("ana", "analyst", None), ("vic", "viewer", None), ("deu", "analyst", "DEU"))
    built = app_with_users(triage_scored[1], tmp_path_factory.mktemp("triage_home"), users)
    auth_context(built.server).users.add(
        "nia", "analyst", "correct horse battery staple", COUNTRY, actor="(test setup)", agency=AGENCY
    )
    return built


@pytest.fixture(scope="module")
def referrals(triage_scored):
    """Report number -> (key, agency, status) of the scored referrals of the simulated exports."""
    root, path = triage_scored
    key = triage_warehouse.pseudonym_key()
    con = connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT CAST(r.referral_key AS VARCHAR), r.agency_code, r.status FROM fact_referral r "
            "JOIN triage_score s ON s.referral_key = r.referral_key AND s.is_current"
        ).fetchall()
    finally:
        con.close()
    known = {k: (agency, status) for k, agency, status in rows}
    found = {}
    for number in triage_warehouse.report_numbers(root):
        pseudonym = referral_key(key, number)
        if pseudonym in known:
            found[number] = (pseudonym, *known[pseudonym])
    return found


def number_of(referrals, agency: str, open_only: bool = True) -> str:
    return next(n for n, (_, a, status) in referrals.items() if a == agency and (not open_only or status != "closed"))


def call(client, output_start: str, values: dict, changed: list[str] | None = None):
    """Post one Dash callback (inputs and states from `component.property` keys; `changed`: what triggered)."""
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
            "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in spec["inputs"]],
        },
    )


def queue_rows(client, query: str = "") -> list[dict]:
    response = call(client, f"..{ids.TRIAGE_TABLE}.data", {f"{ids.TRIAGE_STATE}.data": query})
    assert response.status_code == 200, response.data[:300]
    return response.get_json()["response"][ids.TRIAGE_TABLE]["data"]


def search(client, number: str) -> dict:
    response = call(
        client,
        f"..{ids.TRIAGE_SELECTED}.data",
        {f"{ids.TRIAGE_SEARCH_INPUT}.value": number, f"{ids.TRIAGE_SEARCH_BUTTON}.n_clicks": 1},
        changed=[f"{ids.TRIAGE_SEARCH_BUTTON}.n_clicks"],
    )
    assert response.status_code == 200, response.data[:300]
    return response.get_json()["response"]


def review(client, key: str, tier: str = "P2", actionable: str = "yes") -> str:
    response = call(
        client,
        f"..{ids.TRIAGE_REVIEWED}.data",
        {
            f"{ids.TRIAGE_REVIEW_BUTTON}.n_clicks": 1,
            f"{ids.TRIAGE_SELECTED}.data": key,
            f"{ids.TRIAGE_REVIEW_TIER}.value": tier,
            f"{ids.TRIAGE_REVIEW_ACTIONABLE}.value": actionable,
            f"{ids.TRIAGE_REVIEWED}.data": 0,
        },
    )
    assert response.status_code == 200, response.data[:300]
    return response.get_json()["response"][ids.TRIAGE_REVIEW_STATUS]["children"]


def test_an_agency_scoped_analyst_sees_only_that_agencys_referrals_in_the_queue(app):
    client = signed_in(app, "nia")
    rows = queue_rows(client)
    assert rows and {row["agency"] for row in rows} == {AGENCY}
    # Asking for another agency, or every status, still gives only the user's agency.
    assert {row["agency"] for row in queue_rows(client, "?agency=AGY-DEU&status=all")} == {AGENCY}
    assert {row["agency"] for row in queue_rows(client, "?show=sample")} <= {AGENCY}
    options = call(client, f"..{ids.TRIAGE_AGENCY}.options", {f"{ids.TRIAGE_AGENCY}.id": ids.TRIAGE_AGENCY})
    assert [o["value"] for o in options.get_json()["response"][ids.TRIAGE_AGENCY]["options"]] == [AGENCY]
    unscoped = {row["agency"] for row in queue_rows(signed_in(app, "ana"), "?status=all")}
    assert len(unscoped) > 1
    assert {row["agency"][:7] for row in queue_rows(signed_in(app, "deu"))} == {"AGY-DEU"}


def test_search_finds_a_referral_of_the_users_agency_and_answers_others_like_absent_ones(app, referrals):
    client = signed_in(app, "nia")
    own = number_of(referrals, AGENCY)
    found = search(client, own)
    assert found[ids.TRIAGE_SELECTED]["data"] == referrals[own][0]
    assert found[ids.TRIAGE_SEARCH_INPUT]["value"] == ""  # the number does not stay on the page
    other = number_of(referrals, "AGY-DEU")
    refused = search(client, other)
    absent = search(client, "CT-1999-00000000")
    assert refused == absent and refused[ids.TRIAGE_SEARCH_STATUS]["children"] == triage.NOT_FOUND
    denied = audit_rows(app, "access_denied", "nia")[0]
    assert denied.detail["referral_key"] == referrals[other][0] and "outside your scope" in denied.detail["reason"]
    searches = audit_rows(app, "triage_search", "nia")
    assert [row.detail["found"] for row in searches[:3]] == [False, False, True]
    logged = json.dumps([row.detail for row in auth_context(app.server).audit.recent(10_000, {})])
    assert own not in logged and other not in logged and "CT-1999" not in logged  # never the report number


def test_a_review_is_recorded_in_scope_and_refused_and_audited_outside_it(app, referrals):
    client = signed_in(app, "nia")
    own_key = referrals[number_of(referrals, AGENCY)][0]
    said = review(client, own_key, tier="P1", actionable="yes")
    assert said.startswith("Review recorded by nia")
    stored = auth_context(app.server).triage_reviews.of_user("nia", [own_key])[own_key]
    assert stored.tier_after == "P1" and stored.actionable and stored.run_id and stored.model_version == "triage-1"
    audited = audit_rows(app, "triage_reviewed", "nia")[0]
    assert audited.detail["referral_key"] == own_key and audited.detail["tier_before"] == stored.tier_before

    other_key = referrals[number_of(referrals, "AGY-DEU")][0]
    before = len(audit_rows(app, "triage_reviewed", "nia"))
    refused = review(client, other_key)
    assert refused == f"Not recorded: {triage.NOT_FOUND}"
    assert auth_context(app.server).triage_reviews.of_user("nia", [other_key]) == {}
    assert len(audit_rows(app, "triage_reviewed", "nia")) == before
    denied = audit_rows(app, "access_denied", "nia")[0]
    assert denied.detail["referral_key"] == other_key and denied.detail["reason"].startswith("review")
    # The detail panel of a crafted selection shows nothing either.
    shown = call(client, f"..{ids.TRIAGE_DETAIL}.children", {f"{ids.TRIAGE_SELECTED}.data": other_key})
    assert triage.NOT_FOUND in json.dumps(shown.get_json()["response"][ids.TRIAGE_DETAIL])
    # The queue marks the user's own review.
    rows = queue_rows(client, "?status=all")
    assert any(row["reviewed"] == "P1 · actionable" for row in rows if row["id"] == own_key) or own_key not in {
        row["id"] for row in rows
    }


def test_viewers_get_neither_the_page_nor_its_callbacks(app, referrals):
    from test_auth_app import route_to

    client = signed_in(app, "vic")
    assert route_to(client, triage.PAGE_PATH).status_code == 403
    assert queue_rows(client) == []
    assert "Not recorded" in review(client, referrals[number_of(referrals, AGENCY)][0])
    assert auth_context(app.server).triage_reviews.of_user("vic", [r[0] for r in referrals.values()]) == {}
    assert audit_rows(app, "access_denied", "vic")


def test_page_views_and_filter_changes_are_audited(app):
    from test_auth_app import route_to

    client = signed_in(app, "nia")
    assert route_to(client, triage.PAGE_PATH).status_code == 200
    assert audit_rows(app, "page_view", "nia")[0].detail["path"] == triage.PAGE_PATH
    response = call(
        client,
        f"..{ids.TRIAGE_STATE}.data",
        {
            f"{ids.TRIAGE_TIER}.value": ["P1"],
            f"{ids.TRIAGE_STATUS_FILTER}.value": "open",
            f"{ids.TRIAGE_SHOW}.value": "queue",
            f"{ids.TRIAGE_STATE}.data": "",
        },
        changed=[f"{ids.TRIAGE_TIER}.value"],
    )
    assert response.status_code == 200
    view = audit_rows(app, "page_view", "nia")[0]
    assert view.detail == {"path": triage.PAGE_PATH, "filters": {"tier": ["P1"]}}
