"""Checks on what an administrator types: user names, roles, country scopes, passwords.

Each check returns the normalised value or raises `AuthInputError` naming the field and why,
so the CLI can print it on one line.
"""

from __future__ import annotations

import re

from grace.errors import GraceError
from warehouse.reference import EU27_ISO3

ROLES = ("viewer", "analyst", "admin")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{1,31}")
AGENCY_PATTERN = re.compile(r"[A-Z][A-Z0-9]{1,9}(-[A-Z0-9]{1,10}){0,3}")  # AGY-NLD, AGY-DEU-01
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


class AuthInputError(GraceError):
    """A user name, role, country or password that the store refuses."""


def check_name(name: str) -> str:
    """2-32 characters: a lower-case letter, then lower-case letters, digits, `.`, `_` or `-`."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise AuthInputError(
            f"user name {name!r}: use 2-32 characters, a lower-case letter first, then a-z, 0-9, '.', '_' or '-'"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthInputError(f"role {role!r}: unknown role; use one of {', '.join(ROLES)}")
    return role


def check_country(country: str | None) -> str | None:
    """An EU-27 ISO 3166-1 alpha-3 code (any case), or None for no scope."""
    if country is None or country == "":
        return None
    code = country.strip().upper()
    if code not in EU27_ISO3:
        raise AuthInputError(
            f"country {country!r}: unknown country code; use an EU-27 ISO 3166-1 alpha-3 code such as DEU or FRA"
        )
    return code


def check_agency(agency: str | None, country: str | None) -> tuple[str | None, str | None]:
    """(agency, country) of an agency scope, normalised: an agency code (any case, e.g. `AGY-NLD`) always
    comes with its EU-27 country; no agency leaves the country as checked by `check_country`.

    Where the agency's country comes from (the warehouse's `dim_agency`) is the caller's business; here a
    code naming an EU-27 country as one of its parts (`AGY-DEU-01`) must name the country given."""
    country = check_country(country)
    if agency is None or agency == "":
        return None, country
    code = agency.strip().upper()
    if not AGENCY_PATTERN.fullmatch(code):
        raise AuthInputError(f"agency {agency!r}: not an agency code such as AGY-NLD or AGY-DEU-01")
    if country is None:
        raise AuthInputError(f"agency {code}: an agency scope needs the agency's country")
    named = [part for part in code.split("-") if part in EU27_ISO3]
    if named and country not in named:
        raise AuthInputError(f"agency {code}: its code names {named[0]}, not {country}")
    return code, country


def check_password(password: str) -> str:
    """At least 12 characters (NIST SP 800-63B favours length over composition rules)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AuthInputError(f"password: too short; use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthInputError(f"password: longer than {MAX_PASSWORD_LENGTH} characters")
    if password != password.strip():
        raise AuthInputError("password: starts or ends with white space (a stray newline?)")
    return password
