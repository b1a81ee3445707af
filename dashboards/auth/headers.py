"""Security headers on every response, including a Content-Security-Policy Dash runs under.

Scripts: only this site's files plus the SHA-256 hashes of Dash's own inline scripts (the
renderer start-up and any clientside callbacks, from `app.csp_hashes()`), so no injected
inline script runs. Styles need 'unsafe-inline': React sets `style` attributes and Plotly
injects <style> rules at run time. Images allow data: (Bootstrap's form controls draw their
arrows and ticks as data: SVGs; Plotly's image download). Nothing may frame the app or be
loaded from elsewhere (no CDN: fonts, maps and scripts are all served locally). Responses other than static
bundles are `no-store`: layouts and callback answers carry restricted data.
"""

from __future__ import annotations

import dash
import flask

from dashboards.auth.guard import PUBLIC_PREFIXES

STATIC_PREFIXES = (*PUBLIC_PREFIXES, "/_favicon.ico", "/favicon.ico")


def content_security_policy(script_hashes: list[str]) -> str:
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeaders:
    """`after_request` hook. The CSP's script hashes are taken from the app on each response
    (two SHA-256 of short strings), so clientside callbacks added at any time are covered."""

    def __init__(self, app: dash.Dash):
        self._app = app

    def policy(self) -> str:
        return content_security_policy(list(self._app.csp_hashes()))

    def __call__(self, response: flask.Response) -> flask.Response:
        headers = response.headers
        headers["Content-Security-Policy"] = self.policy()
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        headers["Server"] = "GRACE Trends"  # not the server's name and version (Werkzeug/…, Python/…)
        if not flask.request.path.startswith(STATIC_PREFIXES):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
