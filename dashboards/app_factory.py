"""`create_app()`: the Dash application factory.

Pages live in `dashboards/pages/` and register themselves; the shell (classification banner,
navbar listing every registered page the user may see, the URL locations) wraps every page and
is built per request, so the navbar reflects the logged-in user's role. Bootstrap's CSS is
served from `dashboards/assets/` (no CDN: the tool runs offline). The app carries its own `WarehouseReader` in the Flask config, so
nothing about the warehouse is global and two apps could serve two warehouses.

Dash keeps callbacks registered with `dash.callback` in a process-wide list that the first app
to serve a request takes over, so create one app per process (tests call the plain functions
in `dashboards.callbacks` instead of building apps).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import cast

import dash

from dashboards.auth import install_security
from dashboards.auth.components import account_menu
from dashboards.components import APP_TITLE, app_shell
from dashboards.exports import install_exports
from dashboards.readers import attach_desk, attach_reader
from dashboards.report_desk import ReportDesk
from dashboards.report_routes import install_report_files
from dashboards.wiring import current_role, register_shell_callbacks
from warehouse import WarehouseReader

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_DIR = PACKAGE_DIR / "pages"
ASSETS_DIR = PACKAGE_DIR / "assets"


def create_app(warehouse_path: Path | str, check: bool = True, reports: ReportDesk | None = None) -> dash.Dash:
    """Build the dashboard for one warehouse file (opened read-only, per request).

    With `check`, the warehouse is opened once now so a missing or foreign file fails with a
    one-line `WarehouseError` before the server starts. `reports`: the report archive and schedules the
    Reports page shows (`reporting.desk.ArchiveDesk`, given by the composition layer; None = not set up).
    """
    reader = WarehouseReader(warehouse_path)
    if check:
        reader.check()
    app = dash.Dash(
        "dashboards",
        use_pages=True,
        pages_folder=str(PAGES_DIR),
        assets_folder=str(ASSETS_DIR),
        title=APP_TITLE,
        # Dash documents None ("leave the tab title alone") but annotates the parameter as str
        update_title=cast(str, None),
        serve_locally=True,
        suppress_callback_exceptions=False,
        include_pages_meta=False,  # no social-preview tags on a restricted tool
        meta_tags=[
            {"name": "viewport", "content": "width=device-width, initial-scale=1"},
            {"name": "robots", "content": "noindex, nofollow"},
        ],
    )
    attach_reader(app, reader)
    attach_desk(app, reports)
    app.layout = shell_layout
    register_shell_callbacks(app)
    install_security(app)  # login on every route, roles, audit, security headers (dashboards/auth/)
    install_exports(app)  # /export/<chart>.<png|svg|pdf|csv>, /export/pack/<page>.zip (dashboards/exports/)
    install_report_files(app)  # /reports/file/<run>/<file>: archived reports (dashboards/report_routes.py)
    return app


def shell_layout():
    """The shell around the page container, for the current request's user.

    Pages registered with `roles=(...)` are listed only for those roles; `account_menu()` (user name,
    log-out form) fills the navbar's right-hand side.
    """
    try:
        account = account_menu()
    except RuntimeError:  # outside a request (layout validation)
        account = None
    pages = [page for page in dash.page_registry.values() if page.get("path") not in (None, "/404")]
    return app_shell(dash.page_container, pages, current_role(), account)


def settle_heap() -> None:
    """Collect once, then freeze what startup built (modules, page layouts, the Dash app) out of the cyclic
    garbage collector's scans, as a serving process's last step before it takes requests.

    Those objects live as long as the process; every full (generation 2) collection walked them all, pausing
    whichever request triggered it (measured at 1 M referrals: 4 full collections in about 200 requests of the
    Dissemination, Production and Alerts pages, up to 79 ms each; 10-12 ms once frozen). Only for a process
    that serves: tests, which build many apps, leave the collector as it is."""
    gc.collect()
    gc.freeze()
