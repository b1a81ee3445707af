"""`install_security(app)`: login, roles, audit and headers on a Dash app (called by `create_app`)."""

from __future__ import annotations

from pathlib import Path

import dash
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboards.auth import page_views
from dashboards.auth.audit import AuditLog
from dashboards.auth.context import EXTENSION, AuthContext
from dashboards.auth.guard import guard
from dashboards.auth.headers import SecurityHeaders
from dashboards.auth.ratelimit import LoginRateLimit
from dashboards.auth.session import configure_session, session_lifetime, trusted_proxies
from dashboards.auth.users import UserStore
from dashboards.auth.views import blueprint


def install_security(app: dash.Dash, store_path: Path | str | None = None) -> AuthContext:
    """Wire the store (default `$GRACE_HOME/auth/auth.sqlite`), the guard, the login routes,
    the security headers and the page-view audit into `app`; returns the app's `AuthContext`.

    The Admin page itself is `dashboards/pages/admin.py` (registered with `roles=("admin",)`,
    which the guard enforces)."""
    server = app.server
    users = UserStore(store_path)
    audit = AuditLog(users.path)
    context = AuthContext(users, audit, LoginRateLimit(audit), session_lifetime())
    server.extensions[EXTENSION] = context
    configure_session(server)
    server.register_blueprint(blueprint)
    proxies = trusted_proxies()
    if proxies:  # client addresses (audit, rate limit) from X-Forwarded-For set by our own proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies)
    # First, before Dash's own hooks: nothing runs for a request that is refused.
    server.before_request_funcs.setdefault(None, []).insert(0, guard)
    server.after_request(SecurityHeaders(app))
    page_views.register(app)
    return context
