"""`grace users add|list|set|disable|enable|role|passwd`: who may sign in to the dashboard, in which role
and scope (all countries, one country, or one agency and its country).

Users live in `$GRACE_HOME/auth/auth.sqlite`; every change is written to the audit log in the
same transaction. Passwords are read from stdin (`--password-stdin`, first line) or prompted
for, never taken from the command line (it would show in `ps` and shell history).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grace_cli.options import warehouse_option

ROLE_CHOICE = click.Choice(["viewer", "analyst", "admin"])


def register(cli: click.Group) -> None:
    cli.add_command(users)


@click.group()
def users() -> None:
    """Manage dashboard users (store: $GRACE_HOME/auth/auth.sqlite).

    Roles: viewer (aggregates, no export), analyst (explore and export), admin (also the Admin
    page: users and audit log). --country scopes a user to one EU-27 country (ISO-3); --agency to one
    agency's referrals (e.g. AGY-NLD) and, for every aggregate view, to that agency's country.
    """


def _store():
    from dashboards.auth.users import UserStore

    return UserStore()


def read_password(from_stdin: bool) -> str:
    """First line of stdin (without its newline), or an interactive prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def agency_scope(agency: str | None, country: str | None, warehouse: Path) -> tuple[str | None, str | None]:
    """(agency, country) for an agency scope: the agency's country from the warehouse's `dim_agency`.

    The warehouse is the authority: an agency it does not know is refused, and a --country that differs
    from the agency's is refused. Without a readable warehouse (a store set up before the first load),
    --country must be given; the store still checks it against a country named in the code (AGY-DEU-01)."""
    if not agency:
        return None, country
    from dashboards.auth.validation import AuthInputError
    from grace.errors import WarehouseError
    from warehouse import WarehouseReader

    code = agency.strip().upper()
    try:
        reader = WarehouseReader(warehouse, idle_seconds=0)
        try:
            found = reader.run("agency_country", agency=code)
        finally:
            reader.close()
    except WarehouseError as error:
        if not country:
            raise AuthInputError(
                f"agency {code}: cannot read the warehouse to find its country ({error}); add --country ISO3"
            ) from None
        click.echo(f"note: warehouse not readable; agency {code} taken as in {country.upper()}", err=True)
        return code, country
    if found.empty:
        raise AuthInputError(f"agency {code}: not an agency of the warehouse {warehouse} (dim_agency)")
    known = str(found["country_iso3"].iloc[0])
    if country and country.strip().upper() != known:
        raise AuthInputError(f"agency {code} is in {known}, not {country.strip().upper()}")
    return code, known


def _scope_text(user) -> str:
    if user.agency:
        return f"scoped to agency {user.agency} ({user.country})"
    return f"scoped to {user.country}" if user.country else "all countries"


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="viewer, analyst or admin.")
@click.option("--country", default=None, metavar="ISO3", help="Scope the user to one country (e.g. DEU).")
@click.option(
    "--agency",
    default=None,
    metavar="CODE",
    help="Scope the user to one agency's referrals (e.g. AGY-NLD) and its country (from the warehouse).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@warehouse_option
def add(name: str, role: str, country: str | None, agency: str | None, password_stdin: bool, warehouse) -> None:
    """Add user NAME (2-32 characters: a-z first, then a-z 0-9 . _ -); password ≥ 12 characters.

    Example: printf '%s\\n' "$PASSWORD" | grace users add jdoe --role analyst --country DEU --password-stdin
    """
    agency, country = agency_scope(agency, country, warehouse)
    user = _store().add(name, role, read_password(password_stdin), country, agency=agency)
    scope = f", {_scope_text(user)}" if user.country else ""
    click.echo(f"added {user.name} ({user.role}{scope})")


@users.command("set")
@click.argument("name")
@click.option("--country", default=None, metavar="ISO3", help="Scope NAME to one country (e.g. DEU).")
@click.option("--agency", default=None, metavar="CODE", help="Scope NAME to one agency (e.g. AGY-NLD) and its country.")
@click.option("--all-countries", "unscoped", is_flag=True, help="Remove NAME's scope: every country.")
@warehouse_option
def set_scope(name: str, country: str | None, agency: str | None, unscoped: bool, warehouse) -> None:
    """Change the scope of NAME (one of --country, --agency, --all-countries); applies from their next request."""
    if sum(bool(x) for x in (country and not agency, agency, unscoped)) != 1:
        raise click.UsageError("give one of --country ISO3, --agency CODE or --all-countries")
    agency, country = agency_scope(agency, country, warehouse)
    user = _store().set_scope(name, None if unscoped else country, agency)
    click.echo(f"{user.name}: {_scope_text(user)}")


@users.command("list")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON list (name, role, country, agency, enabled, created_at, updated_at).",
)
def list_users(as_json: bool) -> None:
    """List every user with role, scope (country or agency) and whether enabled."""
    found = _store().list()
    if as_json:
        click.echo(json.dumps([user.as_dict() for user in found], indent=2))
        return
    if not found:
        click.echo("no users; add one with: grace users add NAME --role admin --password-stdin")
        return
    click.echo(f"{'name':<20}{'role':<10}{'country':<9}{'agency':<14}{'enabled':<9}updated (UTC)")
    for user in found:
        click.echo(
            f"{user.name:<20}{user.role:<10}{user.country or 'all':<9}{user.agency or '-':<14}"
            f"{'yes' if user.enabled else 'no':<9}{user.updated_at}"
        )


@users.command("disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable NAME: no new sign-ins, and open sessions end at their next request."""
    _store().set_enabled(name, False)
    click.echo(f"disabled {name}")


@users.command("enable")
@click.argument("name")
def enable(name: str) -> None:
    """Re-enable a disabled user NAME."""
    _store().set_enabled(name, True)
    click.echo(f"enabled {name}")


@users.command("role")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="The new role: viewer, analyst or admin.")
def role(name: str, role: str) -> None:
    """Give NAME another role; it applies from the user's next request (audited)."""
    user = _store().set_role(name, role)
    click.echo(f"{user.name} is now {user.role}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
def passwd(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (≥ 12 characters); the user's open sessions end."""
    _store().set_password(name, read_password(password_stdin))
    click.echo(f"password changed for {name}")
