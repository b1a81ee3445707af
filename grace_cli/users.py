"""`grace users add|list|disable|enable|role|passwd`: who may sign in to the dashboard, in which role.

Users live in `$GRACE_HOME/auth/auth.sqlite`; every change is written to the audit log in the
same transaction. Passwords are read from stdin (`--password-stdin`, first line) or prompted
for, never taken from the command line (it would show in `ps` and shell history).
"""

from __future__ import annotations

import json
import sys

import click

ROLE_CHOICE = click.Choice(["viewer", "analyst", "admin"])


def register(cli: click.Group) -> None:
    cli.add_command(users)


@click.group()
def users() -> None:
    """Manage dashboard users (store: $GRACE_HOME/auth/auth.sqlite).

    Roles: viewer (aggregates, no export), analyst (explore and export), admin (also the Admin
    page: users and audit log). --country scopes a user to one EU-27 country (ISO-3).
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


@users.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="viewer, analyst or admin.")
@click.option("--country", default=None, metavar="ISO3", help="Scope the user to one country (e.g. DEU).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def add(name: str, role: str, country: str | None, password_stdin: bool) -> None:
    """Add user NAME (2-32 characters: a-z first, then a-z 0-9 . _ -); password ≥ 12 characters.

    Example: printf '%s\\n' "$PASSWORD" | grace users add jdoe --role analyst --country DEU --password-stdin
    """
    user = _store().add(name, role, read_password(password_stdin), country)
    scope = f", scoped to {user.country}" if user.country else ""
    click.echo(f"added {user.name} ({user.role}{scope})")


@users.command("list")
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list (name, role, country, enabled, created_at, updated_at)."
)
def list_users(as_json: bool) -> None:
    """List every user with role, country scope and whether enabled."""
    found = _store().list()
    if as_json:
        click.echo(json.dumps([user.as_dict() for user in found], indent=2))
        return
    if not found:
        click.echo("no users; add one with: grace users add NAME --role admin --password-stdin")
        return
    click.echo(f"{'name':<20}{'role':<10}{'country':<9}{'enabled':<9}updated (UTC)")
    for user in found:
        click.echo(
            f"{user.name:<20}{user.role:<10}{user.country or 'all':<9}{'yes' if user.enabled else 'no':<9}"
            f"{user.updated_at}"
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
