"""First users: the demo's `demo` user, and refusing to serve with nobody able to sign in.

The demo user is an admin so that every page, the Admin page included, can be seen on the
demo; its password is random (printed once) unless `$GRACE_DEMO_PASSWORD` sets it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from dashboards.auth.users import UserStore
from dashboards.auth.validation import AuthInputError, check_password
from grace import settings
from grace.errors import ConfigError

DEMO_USER = "demo"
DEMO_ROLE = "admin"
SETUP_ACTOR = "(demo setup)"


def create_demo_user(echo: Callable[[str], None]) -> None:
    """Add `demo` (admin) unless it exists, and print how to sign in."""
    store = UserStore()
    if store.get(DEMO_USER) is not None:
        echo(f"Demo user '{DEMO_USER}' already exists (change its password with: grace users passwd {DEMO_USER}).")
        return
    configured = settings.demo_password()
    if configured:
        try:
            check_password(configured)
        except AuthInputError as error:
            raise ConfigError(f"$GRACE_DEMO_PASSWORD: {error}") from None
    password = configured or secrets.token_urlsafe(12)
    store.add(DEMO_USER, DEMO_ROLE, password, actor=SETUP_ACTOR)
    shown = "(from $GRACE_DEMO_PASSWORD)" if configured else password
    echo(f"Sign in as user '{DEMO_USER}' (role {DEMO_ROLE}, sees every page) with password: {shown}")
    echo("  This password is shown only once; change it with: grace users passwd demo")


def require_users() -> None:
    """Refuse to serve when no user exists (nobody could sign in), saying how to add one."""
    store = UserStore()
    if store.count() == 0:
        raise ConfigError(
            f"{store.path}: no dashboard users; add one first, e.g. "
            "printf '%s\\n' \"$PASSWORD\" | grace users add NAME --role admin --password-stdin"
        )
