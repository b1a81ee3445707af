"""Who is logged in: the signed session cookie, its settings and the per-request user.

Flask's session is a cookie signed with a secret generated once into
`$GRACE_HOME/secrets/session.key` (mode 0600), so sessions survive restarts and are shared by
processes using the same `$GRACE_HOME`. The cookie holds only the user name, the user's session
version and the login time. Every request re-reads the user from the store, so a disabled user
or a changed password ends existing sessions at once; a session also ends 8 hours after login
(`GRACE_SESSION_HOURS`).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Optional

import flask

from grace.config import grace_home
from grace.errors import ConfigError

from dashboards.auth.users import User, UserStore

COOKIE_NAME = "grace_session"
DEFAULT_SESSION_HOURS = 8.0
SESSION_USER, SESSION_VERSION, SESSION_AT = "user", "sv", "at"


def session_key_path() -> Path:
    return grace_home() / "secrets" / "session.key"


def load_session_secret() -> bytes:
    """The cookie-signing secret; generated (32 random bytes, hex, mode 0600) on first use."""
    path = session_key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    secret = path.read_bytes().strip()
    if len(secret) < 32:
        raise ConfigError(f"{path}: session key is shorter than 32 characters; delete it to generate a new one")
    return secret


def session_lifetime() -> timedelta:
    value = os.environ.get("GRACE_SESSION_HOURS")
    if not value:
        return timedelta(hours=DEFAULT_SESSION_HOURS)
    try:
        hours = float(value)
    except ValueError:
        raise ConfigError(f"$GRACE_SESSION_HOURS={value!r}: not a number") from None
    if not 0 < hours <= 24 * 7:
        raise ConfigError(f"$GRACE_SESSION_HOURS={value!r}: use more than 0 and at most 168 hours")
    return timedelta(hours=hours)


def secure_cookies() -> bool:
    """`GRACE_SECURE_COOKIES=1` when served over HTTPS (behind a TLS proxy)."""
    return os.environ.get("GRACE_SECURE_COOKIES", "") in ("1", "true", "yes")


def trusted_proxies() -> int:
    """`GRACE_TRUSTED_PROXIES`: how many reverse proxies in front of the app set X-Forwarded-For (default 0)."""
    value = os.environ.get("GRACE_TRUSTED_PROXIES") or "0"
    if not value.isdigit() or int(value) > 5:
        raise ConfigError(f"$GRACE_TRUSTED_PROXIES={value!r}: use a whole number from 0 to 5")
    return int(value)


def configure_session(server: flask.Flask) -> None:
    """Cookie settings: signed, HttpOnly, SameSite=Lax, Secure on request, limited lifetime."""
    server.secret_key = load_session_secret()
    server.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies(),
        PERMANENT_SESSION_LIFETIME=session_lifetime(),
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=3600,
    )


@dataclass(frozen=True)
class CurrentUser:
    """What pages, callbacks and routes need to know about the logged-in user."""

    name: str
    role: str
    country: Optional[str]


def start_session(user: User) -> None:
    """Log `user` in: a fresh session (nothing carried over from before login)."""
    flask.session.clear()
    flask.session.permanent = True
    flask.session[SESSION_USER] = user.name
    flask.session[SESSION_VERSION] = user.session_version
    flask.session[SESSION_AT] = int(time.time())


def end_session() -> None:
    flask.session.clear()


def session_user(store: UserStore, lifetime: timedelta) -> Optional[CurrentUser]:
    """The enabled user of this request's session, or None (and the stale session is dropped)."""
    name = flask.session.get(SESSION_USER)
    if not name:
        return None
    started = flask.session.get(SESSION_AT, 0)
    user = store.get(name) if isinstance(name, str) else None
    if (user is None or not user.enabled or user.session_version != flask.session.get(SESSION_VERSION)
            or time.time() - started > lifetime.total_seconds()):
        end_session()
        return None
    return CurrentUser(user.name, user.role, user.country)
