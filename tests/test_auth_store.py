"""The user store, the append-only audit log and the `grace users` / `grace audit` commands, on real SQLite."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from dashboards.auth.audit import GENESIS_HASH, AuditLog
from dashboards.auth.bootstrap import create_demo_user, require_users
from dashboards.auth.database import default_store_path
from dashboards.auth.ratelimit import LoginRateLimit
from dashboards.auth.users import UserNotFound, UserStore
from dashboards.auth.validation import AuthInputError
from grace.errors import ConfigError
from grace_cli import cli

PASSWORD = "a long enough passphrase"


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "auth.sqlite")


@pytest.fixture
def audit(store):
    return AuditLog(store.path)


# --- users ------------------------------------------------------------------------------------


def test_the_store_lives_under_grace_home_with_private_permissions(isolated_home):
    store = UserStore()
    assert store.path == isolated_home / "auth" / "auth.sqlite" == default_store_path()
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700


def test_a_user_is_stored_with_an_argon2_hash_and_never_the_password(store):
    user = store.add("jdoe", "analyst", PASSWORD, country="deu")
    assert (user.name, user.role, user.country, user.enabled) == ("jdoe", "analyst", "DEU", True)
    assert user.created_at.endswith("Z") and user.created_at == user.updated_at
    con = sqlite3.connect(store.path)
    stored = con.execute("SELECT password_hash FROM auth_user WHERE name = 'jdoe'").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PASSWORD.encode() not in store.path.read_bytes()


@pytest.mark.parametrize(
    ("name", "role", "password", "country", "message"),
    [
        ("J Doe", "analyst", PASSWORD, None, "user name 'J Doe': use 2-32 characters"),
        ("jdoe", "superuser", PASSWORD, None, "role 'superuser': unknown role; use one of viewer, analyst, admin"),
        ("jdoe", "viewer", "short", None, "password: too short; use at least 12 characters"),
        ("jdoe", "viewer", PASSWORD + "\n", None, "password: starts or ends with white space"),
        ("jdoe", "viewer", PASSWORD, "XXX", "country 'XXX': unknown country code"),
        ("jdoe", "viewer", PASSWORD, "USA", "country 'USA': unknown country code"),
    ],
)
def test_bad_names_roles_passwords_and_countries_are_refused_with_the_field_named(
    store, name, role, password, country, message
):
    with pytest.raises(AuthInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.add(name, role, password, country)
    assert store.list() == []


def test_real_deployments_hash_with_argon2id_at_rfc_9106_low_memory_cost(store, monkeypatch):
    monkeypatch.delenv("GRACE_ARGON2_PROFILE")
    store.add("jdoe", "viewer", PASSWORD)
    stored = sqlite3.connect(store.path).execute("SELECT password_hash FROM auth_user").fetchone()[0]
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert store.authenticate("jdoe", PASSWORD) is not None
    monkeypatch.setenv("GRACE_ARGON2_PROFILE", "weak")
    with pytest.raises(ConfigError, match="GRACE_ARGON2_PROFILE='weak'"):
        store.authenticate("jdoe", PASSWORD)


def test_a_second_user_of_the_same_name_is_refused(store):
    store.add("jdoe", "viewer", PASSWORD)
    with pytest.raises(AuthInputError, match="'jdoe': a user of that name exists"):
        store.add("jdoe", "admin", PASSWORD)
    assert store.get("jdoe").role == "viewer"


def test_authentication_accepts_the_password_and_refuses_others_and_disabled_users(store):
    store.add("jdoe", "viewer", PASSWORD)
    assert store.authenticate("jdoe", PASSWORD).name == "jdoe"
    assert store.authenticate("jdoe", PASSWORD.upper()) is None
    assert store.authenticate("nobody", PASSWORD) is None
    store.set_enabled("jdoe", False)
    assert store.authenticate("jdoe", PASSWORD) is None
    store.set_enabled("jdoe", True)
    assert store.authenticate("jdoe", PASSWORD) is not None


def test_disabling_or_a_new_password_moves_the_session_version_on(store):
    first = store.add("jdoe", "viewer", PASSWORD).session_version
    disabled = store.set_enabled("jdoe", False)
    assert not disabled.enabled and disabled.session_version == first + 1
    enabled = store.set_enabled("jdoe", True)
    assert enabled.session_version == first + 1
    changed = store.set_password("jdoe", "another long passphrase")
    assert changed.session_version == first + 2
    assert store.authenticate("jdoe", PASSWORD) is None
    assert store.authenticate("jdoe", "another long passphrase") is not None


def test_a_role_change_is_stored_and_audited_with_the_old_role(store, audit):
    store.add("jdoe", "viewer", PASSWORD)
    changed = store.set_role("jdoe", "analyst", actor="boss", client="10.0.0.9")
    assert changed.role == "analyst" and store.get("jdoe").role == "analyst"
    entry = audit.recent(1)[0]
    assert (entry.event, entry.user, entry.client) == ("role_changed", "boss", "10.0.0.9")
    assert entry.detail == {"name": "jdoe", "role": "analyst", "from": "viewer"}
    with pytest.raises(AuthInputError, match="role 'root': unknown role"):
        store.set_role("jdoe", "root")


def test_changing_a_missing_user_names_it(store):
    with pytest.raises(UserNotFound, match="user 'ghost': no such user"):
        store.set_enabled("ghost", False)


def test_every_user_change_is_audited_in_the_same_store(store, audit):
    store.add("jdoe", "viewer", PASSWORD, country="FRA")
    store.set_enabled("jdoe", False)
    store.set_enabled("jdoe", True)
    store.set_password("jdoe", "another long passphrase")
    events = [(e.event, e.user, e.detail) for e in reversed(audit.recent(10))]
    assert events == [
        ("user_added", "(command line)", {"name": "jdoe", "role": "viewer", "country": "FRA"}),
        ("user_disabled", "(command line)", {"name": "jdoe"}),
        ("user_enabled", "(command line)", {"name": "jdoe"}),
        ("password_changed", "(command line)", {"name": "jdoe"}),
    ]
    assert "another long passphrase" not in store.path.read_bytes().decode("utf-8", "replace")


# --- audit log --------------------------------------------------------------------------------


def test_audit_rows_carry_a_utc_time_and_a_hash_chain(audit):
    first = audit.record("login_success", "jdoe", {"role": "viewer"}, client="10.0.0.1")
    second = audit.record("page_view", "jdoe", {"path": "/", "filters": {"country": ["DEU"]}})
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.row_hash
    moment = datetime.strptime(first.at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=1)
    assert [e.id for e in audit.recent(10)] == [second.id, first.id]
    assert audit.recent(10, {"event": "page_view"})[0].detail == {"path": "/", "filters": {"country": ["DEU"]}}
    assert audit.recent(10, {"user": "nobody"}) == []
    report = audit.verify_chain()
    assert report.ok and report.rows == 2 and report.head_hash == second.row_hash


def test_an_exact_repeat_a_moment_later_can_be_merged_into_one_row(audit):
    view = {"path": "/", "filters": {}}
    assert audit.record("page_view", "jdoe", view, merge_within=60) is not None
    assert audit.record("page_view", "jdoe", view, merge_within=60) is None  # same view, same moment
    assert audit.record("page_view", "ana", view, merge_within=60) is not None  # another user
    assert audit.record("page_view", "jdoe", {"path": "/trends", "filters": {}}, merge_within=60) is not None
    assert audit.record("page_view", "jdoe", {"path": "/trends", "filters": {}}, merge_within=0) is not None
    assert audit.record("page_view", "jdoe", {"path": "/trends", "filters": {}}) is not None  # no merging asked
    assert [e.detail["path"] for e in reversed(audit.recent(10))] == ["/", "/", "/trends", "/trends", "/trends"]
    assert audit.verify_chain().ok


def test_unknown_events_details_and_filters_are_refused(audit):
    with pytest.raises(ValueError, match="audit event 'hack': unknown"):
        audit.record("hack", None, {})
    with pytest.raises(TypeError, match="must be a dict"):
        audit.record("export", None, ["png"])
    with pytest.raises(TypeError, match="is not JSON"):
        audit.record("export", None, {"when": datetime.now()})
    with pytest.raises(ValueError, match=r"audit filters \['colour'\]: unknown"):
        audit.recent(5, {"colour": "red"})
    assert audit.recent(5) == []


def test_the_audit_log_refuses_update_and_delete(audit):
    audit.record("login_failure", "jdoe", {})
    con = sqlite3.connect(audit.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE refused"):
        con.execute("UPDATE audit_log SET user_name = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"):
        con.execute("DELETE FROM audit_log")
    assert audit.verify_chain().ok


def _tamper(path, statement):
    """Edit the log around its triggers, as someone with write access to the file could."""
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("DROP TRIGGER audit_log_no_delete")
    con.execute(statement)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ('UPDATE audit_log SET detail = \'{"path":"/other"}\' WHERE id = 2', "row 2: content does not match its hash"),
        ("UPDATE audit_log SET user_name = 'mallory' WHERE id = 1", "row 1: content does not match its hash"),
        ("DELETE FROM audit_log WHERE id = 2", "row 2 is missing"),
        ("DELETE FROM audit_log WHERE id = 1", "row 2: prev_hash does not match"),
        ("DELETE FROM audit_log WHERE id = 3", "rows 3-3 are missing from the end"),
    ],
)
def test_chain_verification_detects_edits_and_removed_rows(audit, statement, problem):
    for path in ("/", "/trends", "/alerts"):
        audit.record("page_view", "jdoe", {"path": path})
    assert audit.verify_chain().ok
    _tamper(audit.path, statement)
    report = audit.verify_chain()
    assert not report.ok and problem in report.problem


# --- rate limit -------------------------------------------------------------------------------


def failed(limit: LoginRateLimit, user, client, now=None) -> None:
    """One sign-in attempt that the rate limit let through and that then failed."""
    attempt = limit.begin(user, client, now=now)
    assert attempt.allowed, attempt
    limit.finish(attempt, "login_failure", user, client, now=now)


def test_five_failures_from_one_address_refuse_every_name_there_for_five_minutes(audit):
    limit = LoginRateLimit(audit)
    for n in range(5):
        failed(limit, f"name{n}", "10.0.0.1")
    refused = limit.begin("someone", "10.0.0.1")
    assert (refused.allowed, refused.by, refused.retry_after) == (False, "client", 300)
    assert limit.begin("someone", "10.0.0.2").allowed  # other addresses are not affected
    later = datetime.now(UTC) + timedelta(minutes=5, seconds=1)
    assert limit.begin("someone", "10.0.0.1", now=later).allowed


def test_failures_of_one_name_at_one_address_back_off_exponentially(audit):
    limit = LoginRateLimit(audit)
    failed(limit, "jdoe", "10.0.0.1")
    soon = limit.begin("jdoe", "10.0.0.1")
    assert (soon.allowed, soon.by, soon.retry_after) == (False, "user name and client", 1)
    assert limit.begin("jdoe", "10.0.0.2").allowed and limit.begin("other", "10.0.0.1").allowed

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    waits = []
    for failures in (1, 2, 3, 4, 9):
        pressure = {
            "by_client": 0,
            "by_pair": failures,
            "last_pair": now.isoformat(),
            "by_user": failures,
            "last_user": now.isoformat(),
            "known_client": False,
        }
        waits.append(limit.decide(pressure, now).retry_after)
    assert waits == [1, 2, 4, 8, 256]
    capped = {
        "by_client": 0,
        "by_pair": 12,
        "last_pair": now.isoformat(),
        "by_user": 0,
        "last_user": None,
        "known_client": False,
    }
    assert limit.decide(capped, now).retry_after == 300
    assert limit.decide(capped, now + timedelta(minutes=5)).allowed


def test_a_successful_sign_in_ends_the_back_off_of_its_name_and_address(audit):
    limit = LoginRateLimit(audit)
    failed(limit, "jdoe", "10.0.0.1")
    assert not limit.begin("jdoe", "10.0.0.1").allowed
    audit.record("login_success", "jdoe", {}, client="10.0.0.1")
    assert limit.begin("jdoe", "10.0.0.1").allowed


def test_many_addresses_failing_for_one_name_slow_it_but_never_lock_out_its_known_address(audit):
    limit = LoginRateLimit(audit)
    audit.record("login_success", "jdoe", {}, client="10.9.9.9")  # the user's usual address
    for n in range(5):
        failed(limit, "jdoe", f"10.1.0.{n}")
    new_address = limit.begin("jdoe", "10.2.0.1")
    assert (new_address.allowed, new_address.by) == (False, "user name") and new_address.retry_after <= 15
    assert limit.begin("jdoe", "10.9.9.9").allowed
    later = datetime.now(UTC) + timedelta(seconds=16)
    assert limit.begin("jdoe", "10.2.0.1", now=later).allowed  # slowed to one try per 15 s, not blocked


def test_simultaneous_attempts_count_before_any_of_them_has_failed(audit):
    limit = LoginRateLimit(audit)
    barrier = threading.Barrier(12)

    def attempt(_n):
        barrier.wait()
        return limit.begin(None, "10.5.0.1").allowed

    with ThreadPoolExecutor(12) as pool:
        allowed = list(pool.map(attempt, range(12)))
    assert sum(allowed) == 5
    assert len(audit.recent(100, {"event": "login_rate_limited"})) == 7


# --- demo user and first start ----------------------------------------------------------------


def test_the_demo_user_is_an_admin_with_a_random_password_printed_once(isolated_home, monkeypatch):
    monkeypatch.delenv("GRACE_DEMO_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="no dashboard users; add one first"):
        require_users()
    lines: list[str] = []
    create_demo_user(lines.append)
    password = lines[0].rsplit(": ", 1)[1]
    assert len(password) >= 16 and "role admin" in lines[0]
    assert UserStore().authenticate("demo", password).role == "admin"
    require_users()
    again: list[str] = []
    create_demo_user(again.append)
    assert password not in " ".join(again) and "already exists" in again[0]


def test_the_demo_password_can_be_set_but_must_be_long_enough(isolated_home, monkeypatch):
    monkeypatch.setenv("GRACE_DEMO_PASSWORD", "short")
    with pytest.raises(ConfigError, match=r"\$GRACE_DEMO_PASSWORD: password: too short"):
        create_demo_user(print)
    monkeypatch.setenv("GRACE_DEMO_PASSWORD", PASSWORD)
    lines: list[str] = []
    create_demo_user(lines.append)
    assert PASSWORD not in " ".join(lines) and "$GRACE_DEMO_PASSWORD" in lines[0]
    assert UserStore().authenticate("demo", PASSWORD) is not None


# --- command line -----------------------------------------------------------------------------


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_grace_users_add_list_disable_enable_and_passwd_through_stdin(isolated_home):
    added = run(
        "users", "add", "jdoe", "--role", "analyst", "--country", "POL", "--password-stdin", input=PASSWORD + "\n"
    )
    assert added.exit_code == 0 and added.output == "added jdoe (analyst, scoped to POL)\n"
    assert run("users", "add", "boss", "--role", "admin", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    listed = json.loads(run("users", "list", "--json").output)
    assert [(u["name"], u["role"], u["country"], u["enabled"]) for u in listed] == [
        ("boss", "admin", None, True),
        ("jdoe", "analyst", "POL", True),
    ]
    assert "jdoe" in run("users", "list").output
    assert run("users", "disable", "jdoe").output == "disabled jdoe\n"
    assert json.loads(run("users", "list", "--json").output)[1]["enabled"] is False
    assert run("users", "enable", "jdoe").exit_code == 0
    assert run("users", "role", "jdoe", "--role", "viewer").output == "jdoe is now viewer\n"
    assert run("users", "passwd", "jdoe", "--password-stdin", input="a brand new passphrase\n").exit_code == 0
    assert UserStore().authenticate("jdoe", "a brand new passphrase") is not None


def test_grace_users_errors_are_one_line_and_non_zero(isolated_home):
    short = run("users", "add", "jdoe", "--role", "viewer", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "password: too short" in short.output
    bad_role = run("users", "add", "jdoe", "--role", "root", "--password-stdin", input=PASSWORD + "\n")
    assert bad_role.exit_code != 0 and "'root' is not one of" in bad_role.output
    missing = run("users", "disable", "ghost")
    assert missing.exit_code != 0 and "user 'ghost': no such user" in missing.output
    assert "Traceback" not in short.output + missing.output


def test_grace_audit_list_and_verify(isolated_home):
    run("users", "add", "jdoe", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n")
    run("users", "disable", "jdoe")
    rows = json.loads(run("audit", "list", "--json").output)
    assert [row["event"] for row in rows] == ["user_disabled", "user_added"]
    assert "user_added" in run("audit", "list", "--limit", "1", "--event", "user_added").output
    verified = run("audit", "verify")
    assert verified.exit_code == 0 and verified.output.startswith("ok: 2 rows, chain intact; head ")
    _tamper(UserStore().path, "UPDATE audit_log SET user_name = 'x' WHERE id = 1")
    broken = run("audit", "verify")
    assert broken.exit_code == 1 and "audit chain BROKEN" in broken.output and "row 1" in broken.output


def test_serving_a_warehouse_with_no_users_stops_and_says_how_to_add_one(isolated_home, fresh_db, tmp_path):
    from grace_cli.server import serve

    with pytest.raises(
        ConfigError, match=r"no dashboard users; add one first, e\.g\. .*grace users add NAME --role admin"
    ):
        serve(warehouse=tmp_path / "warehouse.duckdb", port=1)


def test_writers_of_one_process_take_turns_instead_of_timing_out(audit, monkeypatch):
    """A writer that holds the store longer than SQLite's busy timeout does not make the others fail: within a
    process they wait their turn (under load, audit writes starved past the timeout answered 500)."""
    import time

    import dashboards.auth.database as database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    started = threading.Event()

    def slow_writer():
        with database.connection(audit.path) as con, database.transaction(con):
            started.set()
            time.sleep(0.5)  # five times the busy timeout

    holder = threading.Thread(target=slow_writer)
    holder.start()
    started.wait(5)
    with ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(lambda n: audit.record("page_view", f"user{n}", {"path": "/"}), range(8)))
    holder.join()
    assert all(row is not None for row in rows)
    assert audit.verify_chain().ok
