"""Admin page: users and the audit log, as plain functions of the auth store (`dashboards.auth`).

Every function takes the signed-in user and refuses anyone but an admin (`AdminRefused`, audited
as `access_denied`), so the page's callbacks are safe even when posted to directly, whatever the
navigation shows. Changes go through `UserStore`, which writes each change and its audit row in
one transaction (actor = the admin, client = their address); a change also needs the form's CSRF
token (Flask-WTF, the same tokens as the login and logout forms).

Guard rails: an admin cannot disable themself or take away their own admin role, and the last
enabled admin cannot be disabled or demoted (nobody could administer the users any more).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dashboards.auth.audit import EVENTS, canonical_json
from dashboards.auth.context import AuthContext
from dashboards.auth.session import CurrentUser
from dashboards.auth.validation import ROLES, AuthInputError

PAGE = "/admin"
ADMIN_ROLES = ("admin",)
AUDIT_ROWS = 200
ACTIONS = ("add", "set_role", "disable", "enable")


class AdminRefused(PermissionError):
    """Someone who is not an admin asked for the Admin page or one of its actions."""


class AdminActionError(ValueError):
    """An admin action that cannot be done (bad input, expired form, a guard rail)."""


class ActionResult(NamedTuple):
    """Outcome of one change: whether it was made and what to tell the admin."""

    ok: bool
    message: str


class ChainStatus(NamedTuple):
    """The audit chain's verification, in words."""

    ok: bool
    text: str


def require_admin(context: AuthContext, user: CurrentUser | None, what: str, client: str | None = None) -> CurrentUser:
    """`user` when an admin; otherwise audit the refusal (`access_denied`) and raise `AdminRefused`."""
    if user is not None and user.role in ADMIN_ROLES:
        return user
    if user is not None:
        context.audit.record(
            "access_denied", user.name, {"path": PAGE, "action": what, "needs": list(ADMIN_ROLES)}, client
        )
    raise AdminRefused("The Admin page needs the admin role." if user is not None else "Sign in as an admin first.")


# --- reading ---------------------------------------------------------------------------------


def users_rows(context: AuthContext, user: CurrentUser | None, client: str | None = None) -> list[dict]:
    """Every user: name, role, country scope, enabled, created and updated (UTC)."""
    require_admin(context, user, "list users", client)
    return [
        {
            "name": u.name,
            "role": u.role,
            "scope": f"{u.agency} ({u.country})" if u.agency else u.country or "all countries",
            "enabled": "yes" if u.enabled else "no",
            "created": u.created_at,
            "updated": u.updated_at,
        }
        for u in context.users.list()
    ]


def audit_rows(
    context: AuthContext,
    user: CurrentUser | None,
    user_filter: str | None = None,
    event_filter: str | None = None,
    limit: int = AUDIT_ROWS,
    client: str | None = None,
) -> list[dict]:
    """The newest audit events (newest first), optionally of one user and/or one event."""
    require_admin(context, user, "read the audit log", client)
    if event_filter and event_filter not in EVENTS:
        raise AdminActionError(f"event {event_filter!r}: unknown; use one of {', '.join(EVENTS)}")
    filters = {key: value for key, value in (("user", user_filter), ("event", event_filter)) if value}
    return [
        {
            "id": e.id,
            "at": e.at,
            "event": e.event,
            "user": e.user or "",
            "client": e.client or "",
            "detail": canonical_json(e.detail),
        }
        for e in context.audit.recent(limit, filters)
    ]


def chain_status(context: AuthContext, user: CurrentUser | None, client: str | None = None) -> ChainStatus:
    """Recompute the audit log's hash chain and say whether it is intact."""
    require_admin(context, user, "verify the audit chain", client)
    report = context.audit.verify_chain()
    if report.ok:
        return ChainStatus(
            True,
            f"Audit chain intact: {report.rows:,} rows verified; head hash "
            f"{report.head_hash[:16]}… (keep it elsewhere to anchor the log).",
        )
    return ChainStatus(False, f"AUDIT CHAIN BROKEN at row {report.row_id}: {report.problem}.")


# --- changing --------------------------------------------------------------------------------


def check_csrf(token: str | None) -> None:
    """The form's CSRF token must be valid for this session (inside a request); else `AdminActionError`."""
    from flask_wtf.csrf import validate_csrf
    from wtforms.validators import ValidationError

    try:
        validate_csrf(token or None)
    except ValidationError:
        raise AdminActionError(
            "This form has expired or did not come from this site; reload the page and try again."
        ) from None


def _enabled_admins(context: AuthContext) -> list[str]:
    return [u.name for u in context.users.list() if u.role in ADMIN_ROLES and u.enabled]


def _existing(context: AuthContext, name: str | None):
    if not name:
        raise AdminActionError("Choose a user first.")
    target = context.users.get(name)
    if target is None:
        raise AdminActionError(f"user {name!r}: no such user")
    return target


def add_user(
    context: AuthContext,
    user: CurrentUser | None,
    name: str,
    role: str,
    password: str,
    country: str | None = None,
    client: str | None = None,
) -> ActionResult:
    """Add a user (Argon2-hashed password, optional country scope); audited as `user_added`."""
    admin = require_admin(context, user, "add a user", client)
    added = context.users.add(
        (name or "").strip(), role or "", password or "", country or None, actor=admin.name, client=client
    )
    scope = f", scoped to {added.country}" if added.country else ""
    return ActionResult(True, f"Added {added.name} as {added.role}{scope}.")


def change_role(
    context: AuthContext, user: CurrentUser | None, name: str, role: str, client: str | None = None
) -> ActionResult:
    """Give a user another role (it applies from their next request); audited as `role_changed`."""
    admin = require_admin(context, user, "change a role", client)
    target = _existing(context, name)
    if role not in ROLES:
        raise AdminActionError(f"role {role!r}: unknown role; use one of {', '.join(ROLES)}")
    if role == target.role:
        return ActionResult(False, f"{target.name} is already {role}.")
    if target.role in ADMIN_ROLES and role not in ADMIN_ROLES:
        if target.name == admin.name:
            raise AdminActionError("You cannot take away your own admin role; ask another admin.")
        if _enabled_admins(context) == [target.name]:
            raise AdminActionError(f"{target.name} is the last enabled admin; make someone else admin first.")
    changed = context.users.set_role(target.name, role, actor=admin.name, client=client)
    return ActionResult(True, f"{changed.name} is now {changed.role}.")


def set_enabled(
    context: AuthContext, user: CurrentUser | None, name: str, enabled: bool, client: str | None = None
) -> ActionResult:
    """Disable (ends their sessions at once) or re-enable a user; audited."""
    admin = require_admin(context, user, "enable a user" if enabled else "disable a user", client)
    target = _existing(context, name)
    if target.enabled == enabled:
        return ActionResult(False, f"{target.name} is already {'enabled' if enabled else 'disabled'}.")
    if not enabled:
        if target.name == admin.name:
            raise AdminActionError("You cannot disable yourself.")
        if target.role in ADMIN_ROLES and _enabled_admins(context) == [target.name]:
            raise AdminActionError(f"{target.name} is the last enabled admin and cannot be disabled.")
    changed = context.users.set_enabled(target.name, enabled, actor=admin.name, client=client)
    if changed.enabled:
        return ActionResult(True, f"{changed.name} is enabled again.")
    return ActionResult(True, f"{changed.name} is disabled; their open sessions have ended.")


def perform(
    action: str,
    context: AuthContext,
    user: CurrentUser | None,
    token: str | None,
    fields: dict[str, Any],
    client: str | None = None,
) -> ActionResult:
    """One form action (add, set_role, disable, enable) after the admin and CSRF checks.

    Input problems and guard rails come back as a failed `ActionResult` with the reason; a
    non-admin raises `AdminRefused` (audited) before anything is read.
    """
    require_admin(context, user, action, client)
    if action not in ACTIONS:
        raise AdminActionError(f"action {action!r}: unknown; use one of {', '.join(ACTIONS)}")
    try:
        check_csrf(token)
        if action == "add":
            return add_user(
                context,
                user,
                fields.get("name") or "",
                fields.get("role") or "",
                fields.get("password") or "",
                fields.get("country"),
                client,
            )
        if action == "set_role":
            return change_role(context, user, fields.get("target") or "", fields.get("target_role") or "", client)
        return set_enabled(context, user, fields.get("target") or "", action == "enable", client)
    except (AdminActionError, AuthInputError) as error:
        return ActionResult(False, str(error))
