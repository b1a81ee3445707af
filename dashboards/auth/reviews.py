"""Alert reviews: what each user has acknowledged or dismissed, audited with the same transaction.

An alert is named by its `alert_key` (series | kind | date, `analytics_alert`), which is the same in
every `grace analyse` run, so a review outlives the run it was made on: an acknowledged anomaly found
again by tomorrow's run stays acknowledged. Reviews are per user (one analyst's triage does not hide an
alert from a colleague) and live in the auth store beside the audit log, so the review row and its
`alert_acknowledged` / `alert_dismissed` / `alert_reopened` audit row commit together.

Who may review which alert (role, country scope) is decided by the caller (the Alerts page goes through
the user's `Scope`); this module only checks the keys' shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from dashboards.auth.audit import append
from dashboards.auth.database import auth_sql, connection, default_store_path, open_store, transaction, utc_now
from grace.vocabulary import SeriesId

ACTIONS = {"acknowledge": "acknowledged", "dismiss": "dismissed", "reopen": None}
MAX_KEYS = 1_000  # per request: a page of the Alerts table is at most 500 rows


class ReviewError(ValueError):
    """A review request that cannot be recorded (unknown action, malformed key, too many keys)."""


def parse_alert_key(key: str) -> tuple[SeriesId, str, str]:
    """(series, kind, ISO date) of an alert key, or `ReviewError` naming the bad key."""
    text = str(key)
    series_text, _, rest = text.rpartition("|")  # the date is last …
    series_text, _, kind = series_text.rpartition("|")  # … the kind before it
    series = SeriesId.parse(series_text)
    try:
        day = date.fromisoformat(rest).isoformat() if len(rest) == 10 else None
    except ValueError:
        day = None
    if series is None or not kind or day is None or len(text) > 300:
        raise ReviewError(f"alert key {text[:80]!r}: not series|kind|YYYY-MM-DD")
    return series, kind, day


class AlertReviews:
    """Per-user alert reviews in `$GRACE_HOME/auth/auth.sqlite` (or the given file)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        open_store(self.path).close()  # create file and schema once

    def of_user(self, user: str) -> dict[str, str]:
        """alert key -> 'acknowledged' | 'dismissed', for every alert the user has reviewed."""
        with connection(self.path) as con:
            return {
                row["alert_key"]: row["action"]
                for row in con.execute(auth_sql("alert_review_of_user"), {"user_name": user})
            }

    def review(self, user: str, keys: Iterable[str], action: str, client: str | None = None) -> int:
        """Acknowledge, dismiss or reopen alerts for `user`; one audit row per alert, same transaction.

        Returns how many alerts were recorded. Every key is checked before anything is written."""
        if action not in ACTIONS:
            raise ReviewError(f"action {action!r}: use one of {', '.join(ACTIONS)}")
        unique = sorted(set(keys))
        if len(unique) > MAX_KEYS:
            raise ReviewError(f"{len(unique)} alerts in one request; at most {MAX_KEYS}")
        for key in unique:
            parse_alert_key(key)
        outcome = ACTIONS[action]
        event = f"alert_{outcome or 'reopened'}"
        with connection(self.path) as con, transaction(con):
            for key in unique:
                if outcome is None:
                    con.execute(auth_sql("alert_review_clear"), {"user_name": user, "alert_key": key})
                else:
                    con.execute(
                        auth_sql("alert_review_set"),
                        {"user_name": user, "alert_key": key, "action": outcome, "at": utc_now()},
                    )
                append(con, event, user, {"alert_key": key}, client)
        return len(unique)
