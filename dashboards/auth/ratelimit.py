"""Login rate limiting: at most 5 failed logins per 5 minutes per client address and per user name.

The count comes from the audit log's `login_failure` rows rather than an in-memory counter
(e.g. flask-limiter's default storage): every failure must be audited anyway, so the audit log
already holds the truth, and counting it there keeps the limit across restarts and across
several server processes sharing `$GRACE_HOME`, with no extra dependency or service. Refused
attempts are audited as `login_rate_limited` but do not extend the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from dashboards.auth.audit import AuditLog
from dashboards.auth.database import utc_text

MAX_FAILURES = 5
WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class LoginRateLimit:
    audit: AuditLog
    max_failures: int = MAX_FAILURES
    window: timedelta = WINDOW

    def blocked(self, user: Optional[str], client: Optional[str], now: datetime | None = None) -> Optional[str]:
        """Why further attempts are refused now ("client" or "user name"), or None when allowed."""
        since = utc_text((now or datetime.now(timezone.utc)) - self.window)
        if client is not None and self.audit.failures_since(since, client=client) >= self.max_failures:
            return "client"
        if user is not None and self.audit.failures_since(since, user=user) >= self.max_failures:
            return "user name"
        return None

    @property
    def retry_after_seconds(self) -> int:
        return int(self.window.total_seconds())
