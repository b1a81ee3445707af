"""The user store: names, roles, optional country or agency scope, Argon2 password hashes, enabled flag.

Every change is written together with its audit row in one SQLite transaction, so the audit
log cannot miss an administrative action. Password checks take the same time whether or not
the user exists (an unknown name is checked against a dummy hash).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dashboards.auth.audit import append
from dashboards.auth.database import auth_sql, connection, default_store_path, open_store, transaction, utc_now
from dashboards.auth.validation import (
    AuthInputError,
    check_agency,
    check_name,
    check_password,
    check_role,
)
from grace import settings
from grace.errors import ConfigError

CLI_ACTOR = "(command line)"


ARGON2_PROFILES = {"rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY, "test-only-cheapest": profiles.CHEAPEST}
DEFAULT_PROFILE = "rfc9106-low-memory"


def hasher() -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory profile (argon2-cffi's default: 64 MiB, 3 passes).

    `$GRACE_ARGON2_PROFILE=test-only-cheapest` selects argon2-cffi's profile for test suites
    (still Argon2id, trivially cheap): never set it for a real deployment.
    """
    name = settings.argon2_profile(DEFAULT_PROFILE)
    if name not in ARGON2_PROFILES:
        raise ConfigError(f"$GRACE_ARGON2_PROFILE={name!r}: use one of {', '.join(ARGON2_PROFILES)}")
    return _hasher(name)


@cache
def _hasher(name: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(ARGON2_PROFILES[name])


@cache
def _dummy_hash(name: str) -> str:
    return _hasher(name).hash("not a password of anyone")


def dummy_hash() -> str:
    """A hash to check unknown names against, so they cost the same time as real ones."""
    return _dummy_hash(settings.argon2_profile(DEFAULT_PROFILE))


@dataclass(frozen=True)
class User:
    """A user as the dashboard sees it (no password hash)."""

    name: str
    role: str
    country: str | None
    enabled: bool
    session_version: int
    created_at: str
    updated_at: str
    agency: str | None = None  # one agency's referrals (with `country`, the agency's country)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> User:
        return cls(
            row["name"],
            row["role"],
            row["country_iso3"],
            bool(row["enabled"]),
            row["session_version"],
            row["created_at"],
            row["updated_at"],
            row["agency_code"],
        )

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "country": self.country,
            "agency": self.agency,
            "enabled": self.enabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class UserNotFound(AuthInputError):
    """No user of that name."""


class UserStore:
    """Users in `$GRACE_HOME/auth/auth.sqlite` (or the given file)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        open_store(self.path).close()  # create file and schema once

    # --- reading ----------------------------------------------------------------------------

    def get(self, name: str) -> User | None:
        with connection(self.path) as con:
            row = con.execute(auth_sql("user_get"), {"name": name}).fetchone()
        return User.from_row(row) if row else None

    def list(self) -> list[User]:
        with connection(self.path) as con:
            return [User.from_row(row) for row in con.execute(auth_sql("user_list"))]

    def count(self) -> int:
        return len(self.list())

    def authenticate(self, name: str, password: str) -> User | None:
        """The enabled user whose password this is, else None (same work for unknown names)."""
        with connection(self.path) as con:
            row = con.execute(auth_sql("user_get"), {"name": name}).fetchone()
        stored = row["password_hash"] if row else dummy_hash()
        try:
            hasher().verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or not row["enabled"]:
            return None
        if hasher().check_needs_rehash(stored):
            self._store_hash(name, hasher().hash(password), end_sessions=False)
        return User.from_row(row)

    # --- changing (each with its audit row) ------------------------------------------------

    def add(
        self,
        name: str,
        role: str,
        password: str,
        country: str | None = None,
        actor: str = CLI_ACTOR,
        client: str | None = None,
        agency: str | None = None,
    ) -> User:
        """Add a user; `agency` scopes them to one agency and needs `country`, the agency's country (the
        command line looks it up in the warehouse's `dim_agency`)."""
        name, role = check_name(name), check_role(role)
        agency, country = check_agency(agency, country)
        password_hash = hasher().hash(check_password(password))
        try:
            with connection(self.path) as con, transaction(con):
                con.execute(
                    auth_sql("user_insert"),
                    {
                        "name": name,
                        "role": role,
                        "country_iso3": country,
                        "agency_code": agency,
                        "password_hash": password_hash,
                        "now": utc_now(),
                    },
                )
                detail = {"name": name, "role": role, "country": country}
                if agency:
                    detail["agency"] = agency
                append(con, "user_added", actor, detail, client)
        except sqlite3.IntegrityError as error:
            if "UNIQUE" in str(error) or "PRIMARY KEY" in str(error):
                raise AuthInputError(f"user name {name!r}: a user of that name exists") from None
            raise
        return self._existing(name)

    def set_enabled(self, name: str, enabled: bool, actor: str = CLI_ACTOR, client: str | None = None) -> User:
        """Enable or disable; disabling ends the user's open sessions at their next request."""
        self._existing(name)
        with connection(self.path) as con, transaction(con):
            con.execute(auth_sql("user_set_enabled"), {"name": name, "enabled": int(enabled), "now": utc_now()})
            append(con, "user_enabled" if enabled else "user_disabled", actor, {"name": name}, client)
        return self._existing(name)

    def set_role(self, name: str, role: str, actor: str = CLI_ACTOR, client: str | None = None) -> User:
        """Another role; it applies from the user's next request."""
        before = self._existing(name)
        role = check_role(role)
        with connection(self.path) as con, transaction(con):
            con.execute(auth_sql("user_set_role"), {"name": name, "role": role, "now": utc_now()})
            append(con, "role_changed", actor, {"name": name, "role": role, "from": before.role}, client)
        return self._existing(name)

    def set_scope(
        self,
        name: str,
        country: str | None,
        agency: str | None = None,
        actor: str = CLI_ACTOR,
        client: str | None = None,
    ) -> User:
        """Scope NAME to one country, one agency (with its country) or nothing; it applies from the user's
        next request (the user is re-read on every request)."""
        before = self._existing(name)
        agency, country = check_agency(agency, country)
        with connection(self.path) as con, transaction(con):
            con.execute(
                auth_sql("user_set_scope"),
                {"name": name, "country_iso3": country, "agency_code": agency, "now": utc_now()},
            )
            append(
                con,
                "scope_changed",
                actor,
                {
                    "name": name,
                    "country": country,
                    "agency": agency,
                    "from": {"country": before.country, "agency": before.agency},
                },
                client,
            )
        return self._existing(name)

    def set_password(self, name: str, password: str, actor: str = CLI_ACTOR, client: str | None = None) -> User:
        """New password; the user's open sessions end."""
        self._existing(name)
        password_hash = hasher().hash(check_password(password))
        with connection(self.path) as con, transaction(con):
            self._update_hash(con, name, password_hash, end_sessions=True)
            append(con, "password_changed", actor, {"name": name}, client)
        return self._existing(name)

    def sign_out(self, name: str, client: str | None = None) -> None:
        """End every session of `name` on the server (a saved cookie no longer works) and audit `logout`."""
        with connection(self.path) as con, transaction(con):
            con.execute(auth_sql("user_end_sessions"), {"name": name, "now": utc_now()})
            append(con, "logout", name, {}, client)

    # --- internals ------------------------------------------------------------------------

    def _existing(self, name: str) -> User:
        user = self.get(check_name(name))
        if user is None:
            raise UserNotFound(f"user {name!r}: no such user (see `grace users list`)")
        return user

    def _store_hash(self, name: str, password_hash: str, end_sessions: bool) -> None:
        with connection(self.path) as con, transaction(con):
            self._update_hash(con, name, password_hash, end_sessions)

    @staticmethod
    def _update_hash(con: sqlite3.Connection, name: str, password_hash: str, end_sessions: bool) -> None:
        con.execute(
            auth_sql("user_set_password"),
            {"name": name, "password_hash": password_hash, "end_sessions": int(end_sessions), "now": utc_now()},
        )
