"""Report schedules, and which runs are due: a small SQLite store beside the archive, driven by cron.

Why not an in-process scheduler (APScheduler): the dashboard may run in several WSGI processes and may be
down when a report falls due. Instead `grace reports due`, run every few minutes by cron or a systemd
timer, asks this store what is due and runs it. The store (`$GRACE_HOME/reports/schedule.sqlite`) keeps:
- `report_schedule`: name, definition, cron expression (UTC), scope, formats, output folder;
- `report_run`: one row per (schedule, fire time) — the UNIQUE key that makes two processes never produce
  the same run twice: a run is claimed by inserting its row in a write transaction, and only the
  process whose insert succeeds runs it.

Due: the latest fire time of each schedule at or before now that has no finished run. Missed fire times
(the machine was off for a week) are caught up once — only the latest is run, never the backlog of every
missed one. A failed run is retried on later calls until it has had `max_attempts`; then it stays failed
(shown by `grace reports schedule list` and `failures()`, for the Operations page).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import croniter

from grace.errors import GraceError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(hours=2)  # a run still 'running' after this long died with its process: claim it again
SCHEMA = """
CREATE TABLE IF NOT EXISTS report_schedule (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    cron TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    formats TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    deliver_to TEXT NOT NULL DEFAULT '',
    emails TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS report_run (
    schedule TEXT NOT NULL,
    fire_time TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    attempts INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    folder TEXT,
    error TEXT,
    PRIMARY KEY (schedule, fire_time)
);
"""


class ScheduleError(GraceError):
    """A schedule that cannot be added or found."""


@dataclass(frozen=True)
class Schedule:
    name: str
    definition: str
    cron: str
    scope: str
    formats: tuple[str, ...]
    created_at: str
    created_by: str
    deliver_to: str = ""  # a folder each run is copied to ('' = none)
    emails: tuple[str, ...] = ()  # recipients of each run's e-mail

    def latest_fire(self, now: datetime) -> datetime:
        """The latest time at or before `now` (UTC) the cron expression fires."""
        after = croniter(self.cron, now)
        if croniter.match(self.cron, now):
            return now.replace(second=0, microsecond=0)
        return after.get_prev(datetime)

    def next_fire(self, now: datetime) -> datetime:
        return croniter(self.cron, now).get_next(datetime)


@dataclass(frozen=True)
class Claim:
    """A due run this process has claimed: run it, then `finish` it."""

    schedule: Schedule
    fire_time: str
    attempt: int


class ScheduleStore:
    """Schedules and their runs in one SQLite file (see the module docstring)."""

    def __init__(self, path: Path, max_attempts: int = MAX_ATTEMPTS):
        self.path = path
        self.max_attempts = max_attempts
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            yield con
        finally:
            con.close()

    def add(
        self,
        name: str,
        definition: str,
        cron: str,
        scope: str,
        formats: Sequence[str],
        by: str,
        now: datetime | None = None,
        deliver_to: str = "",
        emails: Sequence[str] = (),
    ) -> Schedule:
        if not NAME.match(name or ""):
            raise ScheduleError(f"schedule name {name!r}: 1-64 characters, a-z or 0-9 first, then a-z, 0-9, '-' or '_'")
        if not croniter.is_valid(cron):
            raise ScheduleError(f"cron expression {cron!r} is not valid (five fields: minute hour day month weekday)")
        bad = [address for address in emails if not EMAIL.match(address)]
        if bad:
            raise ScheduleError(f"not an e-mail address: {', '.join(bad)}")
        schedule = Schedule(
            name, definition, cron, scope, tuple(formats), _now_text(now), by, deliver_to, tuple(emails)
        )
        with self._connection() as con:
            try:
                con.execute(
                    "INSERT INTO report_schedule VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        definition,
                        cron,
                        scope,
                        ",".join(formats),
                        schedule.created_at,
                        by,
                        deliver_to,
                        ",".join(emails),
                    ),
                )
            except sqlite3.IntegrityError:
                raise ScheduleError(f"a schedule named {name!r} exists; remove it first") from None
        return schedule

    def remove(self, name: str) -> None:
        with self._connection() as con:
            if con.execute("DELETE FROM report_schedule WHERE name = ?", (name,)).rowcount == 0:
                raise ScheduleError(f"no schedule named {name!r}")

    def schedules(self) -> list[Schedule]:
        with self._connection() as con:
            rows = con.execute("SELECT * FROM report_schedule ORDER BY name").fetchall()
        return [
            Schedule(
                r["name"],
                r["definition"],
                r["cron"],
                r["scope"],
                tuple(r["formats"].split(",")),
                r["created_at"],
                r["created_by"],
                r["deliver_to"],
                tuple(address for address in r["emails"].split(",") if address),
            )
            for r in rows
        ]

    def claim_due(self, now: datetime) -> list[Claim]:
        """Claim every run due at `now` that no other process has claimed (or that failed and may be retried)."""
        claims = []
        for schedule in self.schedules():
            fire = schedule.latest_fire(now).strftime("%Y-%m-%dT%H:%M:%SZ")
            if fire < schedule.created_at[:16] + ":00Z":
                continue  # fired before the schedule existed: nothing to catch up
            claim = self._claim(schedule, fire, now)
            if claim is not None:
                claims.append(claim)
        return claims

    def _claim(self, schedule: Schedule, fire: str, now: datetime) -> Claim | None:
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")  # one writer at a time: the claim is decided here
            try:
                row = con.execute(
                    "SELECT status, attempts, started_at FROM report_run WHERE schedule = ? AND fire_time = ?",
                    (schedule.name, fire),
                ).fetchone()
                stale = (
                    row is not None and row["status"] == "running" and row["started_at"] < _now_text(now - STALE_AFTER)
                )
                if row is None:
                    con.execute(
                        "INSERT INTO report_run (schedule, fire_time, status, attempts, started_at) "
                        "VALUES (?, ?, 'running', 1, ?)",
                        (schedule.name, fire, _now_text(now)),
                    )
                    attempt = 1
                elif (row["status"] == "failed" or stale) and row["attempts"] < self.max_attempts:
                    attempt = row["attempts"] + 1
                    con.execute(
                        "UPDATE report_run SET status = 'running', attempts = ?, started_at = ?, error = NULL "
                        "WHERE schedule = ? AND fire_time = ?",
                        (attempt, _now_text(now), schedule.name, fire),
                    )
                else:
                    con.execute("ROLLBACK")
                    return None
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return Claim(schedule, fire, attempt)

    def finish(self, claim: Claim, folder: str | None = None, error: str | None = None) -> None:
        """Record the outcome of a claimed run: done (with its archive folder) or failed (with why)."""
        with self._connection() as con:
            con.execute(
                "UPDATE report_run SET status = ?, finished_at = ?, folder = ?, error = ? "
                "WHERE schedule = ? AND fire_time = ?",
                ("failed" if error else "done", _now_text(), folder, error, claim.schedule.name, claim.fire_time),
            )

    def runs(self, schedule: str | None = None, limit: int = 50) -> list[dict]:
        with self._connection() as con:
            rows = con.execute(
                "SELECT * FROM report_run WHERE (? IS NULL OR schedule = ?) ORDER BY fire_time DESC, schedule LIMIT ?",
                (schedule, schedule, limit),
            ).fetchall()
        return [dict(row) for row in rows]

    def failures(self) -> list[dict]:
        """Runs that failed for good (every attempt used): what the Operations page reports."""
        with self._connection() as con:
            rows = con.execute(
                "SELECT * FROM report_run WHERE status = 'failed' AND attempts >= ? ORDER BY fire_time DESC",
                (self.max_attempts,),
            ).fetchall()
        return [dict(row) for row in rows]


def _now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
