"""Login, roles and audit for the dashboard.

- `install_security(app)` — called once by `create_app`: guard on every route, `/login` and
  `/logout`, signed session cookie, security headers, page-view audit (the Admin page
  is `dashboards/pages/admin.py`).
- For the shell: `account_menu()` (user label + sign-out form, per-request layouts only),
  `page_visible_to(page, user)`, `user_label()`.
- For pages, callbacks and routes: `current_user()` (name, role, country), `require_role(*roles)`
  (Flask route decorator), `user_may_export()`, `current_scope()` (what the user may see, a
  `grace.scope.Scope`), `scoped_countries(requested)`, `audit_event(event,
  detail)`.
- Stores: `UserStore` (users, Argon2 hashes) and `AuditLog` (append-only, hash-chained), both in
  `$GRACE_HOME/auth/auth.sqlite`; used by `grace users …` and `grace audit …`.

Roles: `viewer` sees aggregates and cannot export; `analyst` explores and exports; `admin` also
sees the Admin page (users, audit log). A user may be scoped to one country.
"""

from dashboards.auth.audit import EVENTS, AuditEntry, AuditLog, ChainReport
from dashboards.auth.context import (
    audit_event,
    current_scope,
    current_user,
    require_role,
    scoped_countries,
    user_may_export,
)
from dashboards.auth.session import CurrentUser
from dashboards.auth.users import User, UserNotFound, UserStore
from dashboards.auth.validation import ROLES, AuthInputError

_LAZY = {  # these import Dash: loaded on first use, so `grace users` stays quick
    "install_security": "dashboards.auth.install",
    "account_menu": "dashboards.auth.components",
    "page_visible_to": "dashboards.auth.components",
    "user_label": "dashboards.auth.components",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dashboards.auth' has no attribute {name!r}")


__all__ = [
    "EVENTS",
    "ROLES",
    "AuditEntry",
    "AuditLog",
    "AuthInputError",
    "ChainReport",
    "CurrentUser",
    "User",
    "UserNotFound",
    "UserStore",
    "account_menu",
    "audit_event",
    "current_scope",
    "current_user",
    "install_security",
    "page_visible_to",
    "require_role",
    "scoped_countries",
    "user_label",
    "user_may_export",
]
