"""The append-only, hash-chained audit log: who logged in, saw what, exported what, changed whom.

Every row carries `prev_hash` (the previous row's hash; 64 zeros for the first) and `row_hash`
= sha256(prev_hash + canonical JSON of [id, at, event, user, client, detail]). Triggers refuse
UPDATE and DELETE; `verify_chain()` recomputes every hash, so an edit made around the triggers
(e.g. with another SQLite tool after dropping them) is detected, and so is a removed tail (the
AUTOINCREMENT counter remembers the highest id ever written). The head hash printed by
`grace audit verify` can be kept elsewhere to anchor the chain against a full rewrite.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboards.auth.database import (
    auth_sql,
    connection,
    default_store_path,
    open_store,
    transaction,
    utc_now,
    utc_text,
)

GENESIS_HASH = "0" * 64
EVENTS = (
    "login_success",
    "login_failure",
    "login_rate_limited",
    "logout",
    "page_view",
    "export",
    "export_failed",
    "access_denied",
    "user_added",
    "user_disabled",
    "user_enabled",
    "role_changed",
    "password_changed",
    "alert_acknowledged",
    "alert_dismissed",
    "alert_reopened",
    "scope_changed",
    "triage_search",
    "triage_reviewed",
    "report_run",
    "report_run_failed",
    "report_download",
    "report_scheduled",
    "report_unscheduled",
)
FILTER_KEYS = ("event", "user", "since")
MAX_LIMIT = 10_000


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept) — the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def row_hash(
    prev_hash: str, row_id: int, at: str, event: str, user: str | None, client: str | None, detail_json: str
) -> str:
    """sha256 over the previous hash and this row's content."""
    content = canonical_json([row_id, at, event, user, client, detail_json])
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    event: str
    user: str | None
    client: str | None
    detail: dict
    prev_hash: str
    row_hash: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> AuditEntry:
        return cls(
            row["id"],
            row["at"],
            row["event"],
            row["user_name"],
            row["client"],
            json.loads(row["detail"]),
            row["prev_hash"],
            row["row_hash"],
        )

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "at": self.at,
            "event": self.event,
            "user": self.user,
            "client": self.client,
            "detail": self.detail,
            "row_hash": self.row_hash,
        }


@dataclass(frozen=True)
class ChainReport:
    """Outcome of `verify_chain`: ok, rows checked, and the first problem found (row id and why)."""

    ok: bool
    rows: int
    head_hash: str
    problem: str | None = None
    row_id: int | None = None


def append(
    con: sqlite3.Connection, event: str, user: str | None, detail: Mapping[str, Any], client: str | None = None
) -> AuditEntry:
    """Append one row inside the caller's write transaction (see `database.transaction`)."""
    if event not in EVENTS:
        raise ValueError(f"audit event {event!r}: unknown; use one of {', '.join(EVENTS)}")
    if not isinstance(detail, Mapping):
        raise TypeError(f"audit detail of {event!r} must be a dict, not {type(detail).__name__}")
    try:
        detail_json = canonical_json(dict(detail))
    except (TypeError, ValueError) as error:
        raise TypeError(f"audit detail of {event!r} is not JSON: {error}") from error
    at = utc_now()
    row_id = con.execute(auth_sql("audit_next_id")).fetchone()[0]
    head = con.execute(auth_sql("audit_last_hash")).fetchone()
    prev = head[0] if head else GENESIS_HASH
    digest = row_hash(prev, row_id, at, event, user, client, detail_json)
    con.execute(
        auth_sql("audit_insert"),
        {
            "id": row_id,
            "at": at,
            "event": event,
            "user_name": user,
            "client": client,
            "detail": detail_json,
            "prev_hash": prev,
            "row_hash": digest,
        },
    )
    return AuditEntry(row_id, at, event, user, client, json.loads(detail_json), prev, digest)


def _repeats_last(
    con: sqlite3.Connection, event: str, user: str | None, detail: Mapping[str, Any], within: float
) -> bool:
    last = con.execute(auth_sql("audit_last_by_user_event"), {"event": event, "user_name": user}).fetchone()
    if last is None or last["detail"] != canonical_json(dict(detail)):
        return False
    since = utc_text(datetime.now(UTC) - timedelta(seconds=within))
    return last["at"] >= since


class AuditLog:
    """The audit API: `record`, `recent`, `verify_chain` (rate limiting reads the log through `ratelimit.py`)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        open_store(self.path).close()  # create file and schema once

    def record(
        self,
        event: str,
        user: str | None,
        detail: Mapping[str, Any] | None = None,
        client: str | None = None,
        merge_within: float | None = None,
    ) -> AuditEntry | None:
        """Append one event (UTC timestamp, chained) in its own transaction.

        With `merge_within` (seconds), an exact repeat of the user's last row of this event that
        is younger than that is not written again (None is returned): Dash may ask for the same
        view twice at once when a page loads.
        """
        with connection(self.path) as con, transaction(con):
            if merge_within is not None and _repeats_last(con, event, user, detail or {}, merge_within):
                return None
            return append(con, event, user, detail or {}, client)

    def recent(self, limit: int = 50, filters: Mapping[str, Any] | None = None) -> list[AuditEntry]:
        """Newest first; `filters` may hold `event`, `user` and `since` (UTC ISO text)."""
        filters = dict(filters or {})
        unknown = sorted(set(filters) - set(FILTER_KEYS))
        if unknown:
            raise ValueError(f"audit filters {unknown}: unknown; use {', '.join(FILTER_KEYS)}")
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"audit limit {limit!r}: use a whole number from 1 to {MAX_LIMIT}")
        params = {
            "event": filters.get("event"),
            "user_name": filters.get("user"),
            "since": filters.get("since"),
            "limit": limit,
        }
        with connection(self.path) as con:
            return [AuditEntry.from_row(row) for row in con.execute(auth_sql("audit_recent"), params)]

    def verify_chain(self) -> ChainReport:
        """Recompute the chain from the first row; report the first row that does not fit."""
        with connection(self.path) as con:
            return verify_rows(con)


def verify_rows(con: sqlite3.Connection) -> ChainReport:
    """`verify_chain` on an open connection."""
    prev = GENESIS_HASH
    expected_id = None
    rows = 0
    for row in con.execute(auth_sql("audit_chain")):
        rows += 1
        row_id = row["id"]
        if expected_id is not None and row_id != expected_id:
            return ChainReport(False, rows, prev, f"row {expected_id} is missing (next row is {row_id})", row_id)
        if row["prev_hash"] != prev:
            return ChainReport(False, rows, prev, f"row {row_id}: prev_hash does not match the row before it", row_id)
        digest = row_hash(prev, row_id, row["at"], row["event"], row["user_name"], row["client"], row["detail"])
        if digest != row["row_hash"]:
            return ChainReport(False, rows, prev, f"row {row_id}: content does not match its hash (edited)", row_id)
        prev = digest
        expected_id = row_id + 1
    highest = con.execute(auth_sql("audit_highest_id")).fetchone()
    last_id = (expected_id or 1) - 1
    if highest and highest[0] > last_id:
        return ChainReport(False, rows, prev, f"rows {last_id + 1}-{highest[0]} are missing from the end", last_id + 1)
    return ChainReport(True, rows, prev)
