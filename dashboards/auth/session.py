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

import flask

from dashboards.auth.users import User, UserStore
from grace import settings
from grace.config import grace_home
from grace.errors import ConfigError

COOKIE_NAME = "grace_session"
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
    """`GRACE_SESSION_HOURS` (default 8, at most 168) as a lifetime."""
    return timedelta(hours=settings.session_hours())


def configure_session(server: flask.Flask) -> None:
    """Cookie settings: signed, HttpOnly, SameSite=Lax, Secure on request, limited lifetime."""
    server.secret_key = load_session_secret()
    server.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies(),
        PERMANENT_SESSION_LIFETIME=session_lifetime(),
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=3600,
    )


@dataclass(frozen=True)
class CurrentUser:
    """What pages, callbacks and routes need to know about the logged-in user."""

    name: str
    role: str
    country: str | None
    agency: str | None = None


def start_session(user: User) -> None:
    """Log `user` in: a fresh session (nothing carried over from before login)."""
    flask.session.clear()
    flask.session.permanent = True
    flask.session[SESSION_USER] = user.name
    flask.session[SESSION_VERSION] = user.session_version
    flask.session[SESSION_AT] = int(time.time())


def end_session() -> None:
    flask.session.clear()


def session_user(store: UserStore, lifetime: timedelta) -> CurrentUser | None:
    """The enabled user of this request's session, or None (and the stale session is dropped)."""
    name = flask.session.get(SESSION_USER)
    if not name:
        return None
    started = flask.session.get(SESSION_AT, 0)
    user = store.get(name) if isinstance(name, str) else None
    if (
        user is None
        or not user.enabled
        or user.session_version != flask.session.get(SESSION_VERSION)
        or time.time() - started > lifetime.total_seconds()
    ):
        end_session()
        return None
    return CurrentUser(user.name, user.role, user.country, user.agency)
