"""Triage page logic (plain functions on a real scored warehouse), triage reviews and their labels, the
agency scope of users (store, upgrade, `grace users`), and `grace model train --with-reviews`."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import date

import pandas as pd
import pytest
import triage_warehouse
from click.testing import CliRunner

from classification.features import GROUPS, with_review_labels
from dashboards.auth.audit import AuditLog
from dashboards.auth.database import open_store
from dashboards.auth.triage_reviews import TriageReviewError, TriageReviews
from dashboards.auth.users import UserStore
from dashboards.auth.validation import AuthInputError
from dashboards.callbacks import triage
from dashboards.state import ViewStateError
from grace.pseudonyms import referral_key
from grace.scope import Scope, ScopeError
from grace_cli import cli
from warehouse import WarehouseReader, connect

NLD = Scope.of_agency(triage_warehouse.AGENCY, triage_warehouse.COUNTRY)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def reader(triage_scored):
    return WarehouseReader(triage_scored[1], idle_seconds=0)


def keys_of(reader, view) -> list[str]:
    return [row["id"] for row in triage.queue(reader, view).rows]


def every_row(reader, view) -> pd.DataFrame:
    return reader.run("triage_queue", **{**triage.queue_params(view), "limit": 100_000, "offset": 0})


# --- the view ---------------------------------------------------------------------------------


def test_the_view_round_trips_through_its_query_string_and_refuses_bad_values():
    view = triage.TriageView.from_query("?tier=P2&tier=P1&status=all&show=sample&agency=AGY-NLD&page=3")
    assert view.tiers == ("P1", "P2") and view.status == "all" and view.show == "sample" and view.page == 3
    assert triage.TriageView.from_query(view.to_query()) == view
    assert triage.TriageView().to_query() == "" and triage.TriageView().statuses == list(triage.OPEN_STATUSES)
    for bad in ("?tier=P9", "?status=gone", "?show=x", "?page=0", "?page=abc", "?agency=a;b"):
        with pytest.raises(ViewStateError):
            triage.TriageView.from_query(bad)


def test_an_agency_scope_cuts_the_agency_filter_and_never_widens():
    view = triage.TriageView(agencies=("AGY-DEU",)).within(NLD)
    assert view.agencies == (triage_warehouse.AGENCY,) and view.scope is NLD
    assert triage.TriageView(agencies=("AGY-DEU",)).within(Scope.everything()).agencies == ("AGY-DEU",)


# --- the queue --------------------------------------------------------------------------------


def test_an_agency_scoped_queue_holds_only_that_agencys_open_referrals_ranked_by_priority(reader):
    rows = every_row(reader, triage.TriageView().within(NLD))
    assert len(rows) > 0 and set(rows["agency_code"]) == {triage_warehouse.AGENCY}
    assert set(rows["status"]) <= set(triage.OPEN_STATUSES)
    rest = rows[~(rows["audit_sample"] | rows["uncertain"])]
    assert rest["priority_score"].is_monotonic_decreasing
    unscoped = every_row(reader, triage.TriageView(agencies=(triage_warehouse.AGENCY,)))
    assert sorted(unscoped["referral_key"]) == sorted(rows["referral_key"])


def test_a_country_scope_sees_every_agency_of_its_country_and_no_other(reader):
    rows = every_row(reader, triage.TriageView(status="all").within(Scope.of_countries(["DEU"])))
    assert set(rows["country_iso3"]) == {"DEU"} and all(code.startswith("AGY-DEU") for code in rows["agency_code"])


def test_rows_show_a_short_pseudonymous_id_codes_and_the_explanation_in_words(reader):
    found = triage.queue(reader, triage.TriageView())
    row = found.rows[0]
    assert row["short_id"].startswith("R-") and len(row["short_id"]) == 12
    assert row["id"].isdigit() and row["short_id"][2:] == f"{int(row['id']):032x}"[:10]
    assert row["tier"] in triage.TIERS and 0 <= row["probability"] <= 1
    assert all(reason in {"—", *map(triage.words, GROUPS)} for reason in row["reasons"].split(", "))
    assert "CT-" not in json.dumps(found.rows)  # never a report number
    assert found.pages > 1 and len(found.rows) == triage.PAGE_SIZE and "showing 1–50" in found.count


def test_pages_follow_each_other_without_overlap(reader):
    first = keys_of(reader, triage.TriageView())
    second = keys_of(reader, triage.TriageView(page=2))
    assert second and not set(first) & set(second)
    beyond = triage.queue(reader, triage.TriageView(page=triage.MAX_PAGE))
    assert beyond.page == 1 and beyond.rows  # a page past the end shows the first


def test_the_review_sample_is_the_keyed_audit_sample_and_the_most_uncertain_first(reader):
    view = triage.TriageView()
    rows = every_row(reader, view)
    newest = connect_newest(reader)
    salt = triage.AUDIT_SALT

    def sampled(key: str, received) -> bool:
        bucket = int(hashlib.md5(f"{salt}:{int(key):032x}".encode()).hexdigest()[:8], 16) % 1000
        return bucket < triage.SAMPLE_PER_MILLE and (newest - pd.Timestamp(received).date()).days < triage.SAMPLE_DAYS

    expected = {k for k, r in zip(rows["referral_key"], rows["received_date"]) if sampled(k, r)}
    assert set(rows.loc[rows["audit_sample"], "referral_key"]) == expected
    uncertainty = rows["probability"] * (1 - rows["probability"])
    uncertain = rows[rows["uncertain"]]
    assert len(uncertain) == triage.UNCERTAIN_N
    assert uncertainty[rows["uncertain"]].min() >= uncertainty[~rows["uncertain"]].max()
    marked = rows["audit_sample"] | rows["uncertain"]
    assert marked.iloc[: int(marked.sum())].all()  # the sample comes first
    only = every_row(reader, triage.TriageView(show="sample"))
    assert sorted(only["referral_key"]) == sorted(rows.loc[marked, "referral_key"])
    assert keys_of(reader, view) == keys_of(reader, view)  # stable across reloads
    page = triage.queue(reader, view)
    assert {"audit sample", "uncertain"} >= {m for row in page.rows for m in row["marks"].split(", ") if m}


def connect_newest(reader) -> date:
    con = connect(reader.path, read_only=True)
    try:
        return con.execute("SELECT max(received_date) FROM fact_referral").fetchone()[0]
    finally:
        con.close()


def test_filters_narrow_the_queue(reader):
    p1 = every_row(reader, triage.TriageView(tiers=("P1",)))
    assert len(p1) and set(p1["tier"]) == {"P1"}
    closed = every_row(reader, triage.TriageView(status="closed"))
    assert len(closed) and set(closed["status"]) == {"closed"}
    agencies = [o["value"] for o in triage.agency_options(reader, NLD)]
    assert agencies == [triage_warehouse.AGENCY]
    assert len(triage.agency_options(reader, Scope.everything())) > 10


def test_one_referral_is_found_only_within_the_scope(reader):
    key = every_row(reader, triage.TriageView().within(NLD))["referral_key"].iloc[0]
    assert triage.referral(reader, NLD, key)["agency_code"] == triage_warehouse.AGENCY
    deu = Scope.of_countries(["DEU"])
    assert triage.referral(reader, deu, key) is None and triage.exists_outside(reader, deu, key)
    assert triage.referral(reader, NLD, "123") is None and not triage.exists_outside(reader, NLD, "123")
    assert triage.referral(reader, NLD, "1; DROP TABLE x") is None
    shown = triage.detail(triage.referral(reader, NLD, key))
    assert shown["run_id"] and shown["model_version"] == "triage-1" and shown["short_id"].startswith("R-")
    with pytest.raises(ScopeError):
        deu.require_referral(triage_warehouse.AGENCY, triage_warehouse.COUNTRY)


# --- the pseudonym of a report number -----------------------------------------------------------


def test_the_server_computes_the_same_referral_key_as_the_etl(triage_scored, reader):
    root, _ = triage_scored
    numbers = triage_warehouse.report_numbers(root)[:200]
    key = triage_warehouse.pseudonym_key()
    computed = {referral_key(key, number) for number in numbers}
    con = connect(reader.path, read_only=True)
    try:
        present = {str(k) for (k,) in con.execute("SELECT referral_key FROM fact_referral").fetchall()}
    finally:
        con.close()
    assert len(computed & present) >= 0.9 * len(numbers)  # a few simulated records are malformed or duplicates
    assert referral_key(key, f"  {numbers[0]} ") == referral_key(key, numbers[0])
    assert referral_key(key, "") is None and referral_key(key, "x" * 500) is None


# --- reviews and labels -------------------------------------------------------------------------


def test_a_review_is_stored_with_its_audit_row_and_replaced_by_a_later_one(tmp_path):
    reviews = TriageReviews(tmp_path / "auth.sqlite")
    done = reviews.review("ana", "12345", "P3", "P1", True, "run-1", "triage-1", "10.0.0.1")
    assert done.tier_after == "P1" and done.actionable
    reviews.review("ana", "12345", "P3", "P2", False, "run-1", "triage-1")
    mine = reviews.of_user("ana", ["12345", "999"])
    assert list(mine) == ["12345"] and mine["12345"].tier_after == "P2" and not mine["12345"].actionable
    assert reviews.of_user("bob", ["12345"]) == {}
    audit = AuditLog(tmp_path / "auth.sqlite").recent(10, {"event": "triage_reviewed"})
    assert len(audit) == 2 and audit[0].detail["referral_key"] == "12345" and audit[0].detail["tier_after"] == "P2"
    for bad in (("x1", "P1", "P1"), ("12", "P5", "P1"), ("12", "P1", "")):
        with pytest.raises(TriageReviewError):
            reviews.review("ana", bad[0], bad[1], bad[2], True, "run-1", None)


def test_a_review_that_fails_to_write_leaves_no_audit_row(tmp_path, monkeypatch):
    reviews = TriageReviews(tmp_path / "auth.sqlite")
    import dashboards.auth.triage_reviews as module

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("disk full")

    monkeypatch.setattr(module, "append", broken)
    with pytest.raises(sqlite3.OperationalError):
        reviews.review("ana", "12345", "P3", "P1", True, "run-1", "triage-1")
    assert reviews.of_user("ana", ["12345"]) == {}


def test_reviews_become_one_label_per_referral_the_latest_of_any_user(tmp_path):
    reviews = TriageReviews(tmp_path / "auth.sqlite")
    reviews.review("ana", "1", "P3", "P1", True, "run-1", "triage-1")
    reviews.review("bob", "1", "P3", "P4", False, "run-1", "triage-1")  # later: wins
    reviews.review("ana", "2", "P2", "P2", True, "run-1", None)
    labels = reviews.labels()
    assert [(key, label) for key, label, _ in labels] == [("1", 0), ("2", 1)]
    assert all(isinstance(day, date) for _, _, day in labels)
    assert TriageReviews(tmp_path / "none.sqlite", create=False).labels() == []


def test_review_labels_fill_missing_labels_and_keep_case_outcomes():
    frame = pd.DataFrame(
        {
            "referral_key": ["1", "2", "3"],
            "label": pd.array([1, None, None], dtype="Int32"),
            "label_date": pd.to_datetime(["2024-01-05", None, None]),
        }
    )
    reviews = [("1", 0, date(2024, 2, 1)), ("2", 1, date(2024, 2, 2)), ("9", 1, date(2024, 2, 3))]
    labelled = with_review_labels(frame, reviews).set_index("referral_key")
    assert labelled.loc["1", "label"] == 1 and labelled.loc["1", "label_date"] == pd.Timestamp("2024-01-05")
    assert labelled.loc["2", "label"] == 1 and labelled.loc["2", "label_date"] == pd.Timestamp("2024-02-02")
    assert pd.isna(labelled.loc["3", "label"]) and pd.isna(labelled.loc["3", "label_source"])
    assert list(labelled["label_source"].fillna("-")) == ["case", "review", "-"]
    assert str(labelled["label"].dtype) == "Int32"
    unchanged = with_review_labels(frame, [])
    assert unchanged["label"].isna().sum() == 2 and len(unchanged) == 3


def test_train_with_reviews_adds_them_as_labels(triage_scored, tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(triage_scored[1], path)
    con = connect(path, read_only=True)
    try:
        open_keys = [
            str(k)
            for (k,) in con.execute(
                "SELECT referral_key FROM fact_referral WHERE closed_date IS NULL LIMIT 3"
            ).fetchall()
        ]
    finally:
        con.close()
    reviews = TriageReviews()  # the default store in this test's $GRACE_HOME
    for i, key in enumerate(open_keys):
        reviews.review("ana", key, "P3", "P2", i % 2 == 0, "run-1", "triage-1")
    runner = CliRunner()
    result = runner.invoke(cli, ["model", "train", "--warehouse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["review_labels"] == 3
    result = runner.invoke(cli, ["model", "train", "--warehouse", str(path), "--without-reviews", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["review_labels"] == 0


# --- agency scope of users ---------------------------------------------------------------------


def test_an_agency_scope_implies_its_country():
    scope = Scope.of_user("NLD", "AGY-NLD")
    assert scope.agencies == frozenset({"AGY-NLD"}) and scope.countries == frozenset({"NLD"})
    assert scope.allows_agency("AGY-NLD", "NLD") and not scope.allows_agency("AGY-DEU", "DEU")
    assert not scope.allows_agency("AGY-NLD-01", "NLD") and not scope.eu_wide
    assert scope.countries_for(["DEU"]) == ("NLD",) and scope.sql_agencies == ["AGY-NLD"]
    assert Scope.of_countries(["NLD"]).allows_agency("AGY-NLD-01", "NLD")
    assert Scope.everything().sql_agencies is None and Scope.of_user("NLD").agencies is None
    assert scope.describe() == "AGY-NLD (NLD)"
    with pytest.raises(ValueError):
        Scope.of_user(None, "AGY-NLD")


def test_the_store_keeps_an_agency_with_its_country_and_audits_scope_changes(tmp_path):
    users = UserStore(tmp_path / "auth.sqlite")
    added = users.add("nia", "analyst", PASSWORD, "nld", agency="agy-nld")
    assert (added.agency, added.country) == ("AGY-NLD", "NLD")
    with pytest.raises(AuthInputError, match="needs the agency's country"):
        users.add("nob", "analyst", PASSWORD, None, agency="AGY-NLD")
    with pytest.raises(AuthInputError, match="names DEU, not NLD"):
        users.add("nob", "analyst", PASSWORD, "NLD", agency="AGY-DEU-01")
    changed = users.set_scope("nia", "DEU")
    assert (changed.agency, changed.country) == (None, "DEU")
    assert users.set_scope("nia", None).country is None
    rows = AuditLog(users.path).recent(10, {"event": "scope_changed"})
    assert rows[-1].detail["from"] == {"country": "NLD", "agency": "AGY-NLD"}


def test_an_older_store_gains_the_agency_column_when_opened(tmp_path):
    path = tmp_path / "auth.sqlite"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE auth_user (name TEXT PRIMARY KEY, role TEXT NOT NULL, country_iso3 TEXT, password_hash TEXT "
        "NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, session_version INTEGER NOT NULL DEFAULT 1, created_at TEXT "
        "NOT NULL, updated_at TEXT NOT NULL) STRICT"
    )
    con.execute("INSERT INTO auth_user VALUES ('old', 'viewer', 'DEU', 'x', 1, 1, 'now', 'now')")
    con.commit()
    con.close()
    open_store(path).close()
    open_store(path).close()  # once only
    user = UserStore(path).get("old")
    assert user is not None and user.country == "DEU" and user.agency is None


def test_grace_users_add_and_set_take_the_agencys_country_from_the_warehouse(triage_scored):
    runner = CliRunner()
    warehouse = str(triage_scored[1])

    def grace(*args, stdin=None):
        return runner.invoke(cli, ["users", *args], input=stdin)

    done = grace(
        "add",
        "nia",
        "--role",
        "analyst",
        "--agency",
        "agy-nld",
        "--warehouse",
        warehouse,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert done.exit_code == 0, done.output
    assert "scoped to agency AGY-NLD (NLD)" in done.output
    refused = grace(
        "add",
        "nob",
        "--role",
        "analyst",
        "--agency",
        "AGY-XXX",
        "--warehouse",
        warehouse,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert refused.exit_code != 0 and "not an agency of the warehouse" in refused.output
    wrong = grace(
        "add",
        "nob",
        "--role",
        "analyst",
        "--agency",
        "AGY-NLD",
        "--country",
        "DEU",
        "--warehouse",
        warehouse,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert wrong.exit_code != 0 and "is in NLD, not DEU" in wrong.output
    moved = grace("set", "nia", "--agency", "AGY-DEU", "--warehouse", warehouse)
    assert moved.exit_code == 0 and "AGY-DEU (DEU)" in moved.output
    listed = json.loads(grace("list", "--json").output)
    assert listed[0]["agency"] == "AGY-DEU" and listed[0]["country"] == "DEU"
    assert "all countries" in grace("set", "nia", "--all-countries").output
    assert grace("set", "nia").exit_code != 0
    missing = grace(
        "add",
        "nob",
        "--role",
        "analyst",
        "--agency",
        "AGY-NLD",
        "--warehouse",
        "/nonexistent/w.duckdb",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert missing.exit_code != 0 and "add --country" in missing.output
