"""Login rate limiting, decided and recorded atomically.

Three rules, over the last 5 minutes of failed sign-ins (the audit log's `login_failure` rows) plus
the sign-ins still being checked (`login_attempt` rows):

- **Per client address** (strict): at most 5 failures; then every attempt from that address is
  refused for the rest of the window, whatever the user name.
- **Per (user name, address)**: exponential back-off. After n failures of that pair (since its last
  successful sign-in), the next attempt waits 2^(n-1) seconds (1, 2, 4, 8 …, at most 5 minutes) after
  the last one.
- **Per user name** (from all addresses): after 5 failures the name is slowed, not blocked: one
  attempt per 15 seconds from addresses the user has not signed in from. An address the user
  signed in from successfully in the last 30 days is exempt, so an attacker guessing from many
  addresses cannot lock the real user out.

The check and the reservation of the attempt happen in one SQLite write transaction
(`BEGIN IMMEDIATE`), so simultaneous attempts cannot all pass a check that none of them has
counted yet; the outcome (success or failure) is audited and the reservation removed in a second
transaction. Counting the audit log rather than an in-memory counter keeps the limits across
restarts and across server processes sharing `$GRACE_HOME`. Refused attempts are audited as
`login_rate_limited` and do not extend the window.

Behind a reverse proxy the client address is the proxy's unless `GRACE_TRUSTED_PROXIES` says how
many proxies set `X-Forwarded-For` (`grace.settings.trusted_proxies`); without it every user shares
the proxy's address and the per-address rule applies to all of them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboards.auth.audit import AuditLog, append
from dashboards.auth.database import auth_sql, connection, transaction, utc_text

MAX_FAILURES = 5
WINDOW = timedelta(minutes=5)
MAX_BACKOFF = timedelta(minutes=5)
USER_SLOWDOWN = timedelta(seconds=15)
KNOWN_CLIENT_DAYS = 30


@dataclass(frozen=True)
class Decision:
    """The rate limit's answer to one sign-in attempt."""

    allowed: bool
    by: str | None = None  # why refused: 'client', 'user name and client' or 'user name'
    retry_after: int = 0  # seconds until an attempt may be allowed again
    attempt_id: int | None = None  # the reservation to finish (allowed attempts)

    @property
    def wait_text(self) -> str:
        seconds = max(1, self.retry_after)
        if seconds < 90:
            return f"{seconds} second{'s' if seconds != 1 else ''}"
        return f"{round(seconds / 60)} minutes"


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _wait(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


@dataclass(frozen=True)
class LoginRateLimit:
    audit: AuditLog
    max_failures: int = MAX_FAILURES
    window: timedelta = WINDOW
    max_backoff: timedelta = MAX_BACKOFF
    user_slowdown: timedelta = USER_SLOWDOWN

    def decide(self, pressure: Mapping[str, Any], now: datetime) -> Decision:
        """The rules above applied to the counts of `login_pressure.sql` (pure; no I/O)."""
        if pressure["by_client"] >= self.max_failures:
            return Decision(False, "client", int(self.window.total_seconds()))
        pair_failures = pressure["by_pair"]
        last_pair = _moment(pressure["last_pair"])
        if pair_failures and last_pair is not None:
            backoff = min(timedelta(seconds=2 ** (pair_failures - 1)), self.max_backoff)
            if now < last_pair + backoff:
                return Decision(False, "user name and client", _wait(last_pair + backoff, now))
        last_user = _moment(pressure["last_user"])
        slowed = pressure["by_user"] >= self.max_failures and not pressure["known_client"]
        if slowed and last_user is not None and now < last_user + self.user_slowdown:
            return Decision(False, "user name", _wait(last_user + self.user_slowdown, now))
        return Decision(True)

    def begin(self, user: str | None, client: str | None, now: datetime | None = None) -> Decision:
        """Check the limits and, when allowed, reserve the attempt — one write transaction.

        A refusal is audited (`login_rate_limited`) in the same transaction.
        """
        now = now or datetime.now(UTC)
        params = {
            "user_name": user,
            "client": client,
            "since": utc_text(now - self.window),
            "known_since": utc_text(now - timedelta(days=KNOWN_CLIENT_DAYS)),
        }
        with connection(self.audit.path) as con, transaction(con):
            pressure = dict(con.execute(auth_sql("login_pressure"), params).fetchone())
            decision = self.decide(pressure, now)
            if not decision.allowed:
                append(con, "login_rate_limited", user, {"by": decision.by}, client)
                return decision
            cursor = con.execute(
                auth_sql("login_attempt_insert"), {"at": utc_text(now), "user_name": user, "client": client}
            )
            return Decision(True, attempt_id=cursor.lastrowid)

    def finish(
        self,
        decision: Decision,
        event: str,
        user: str | None,
        client: str | None,
        detail: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        """Audit the attempt's outcome (`login_success` / `login_failure`) and drop its reservation
        (and any expired one) in one transaction."""
        now = now or datetime.now(UTC)
        with connection(self.audit.path) as con, transaction(con):
            append(con, event, user, dict(detail or {}), client)
            con.execute(
                auth_sql("login_attempt_delete"),
                {"id": decision.attempt_id, "expired_before": utc_text(now - self.window)},
            )
