"""Serving the dashboard: find (or build) the warehouse, then run the app.

Shared by `python app.py` and `grace serve`. Which warehouse is served:

1. an explicit path (`--warehouse`), which must exist;
2. else `$GRACE_WAREHOUSE`, which must exist;
3. else `$GRACE_HOME/warehouse.duckdb`; when it does not exist yet, the demo warehouse is built
   there first (synthetic case-system data through the real ETL; `$GRACE_DEMO_SCALE` sets its size).

On that first start the server serves as soon as the referrals are loaded; the first triage model and
the first analysis are added by a background process (`grace_cli/demo_finish.py`), and the pages say so
until they are done. A start that finds the demo unfinished (stopped midway) starts that process again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grace import settings
from grace.config import grace_home
from grace.errors import WarehouseError
from grace.progress import LineProgress, print_now

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050

Echo = Callable[[str], None]


@dataclass(frozen=True)
class WarehouseChoice:
    """The warehouse to serve and whether it is the (possibly missing) default demo location."""

    path: Path
    origin: str  # "option", "$GRACE_WAREHOUSE" or "default"

    @property
    def may_build_demo(self) -> bool:
        return self.origin == "default"


def choose_warehouse(explicit: Path | str | None = None) -> WarehouseChoice:
    """Apply the order above (without touching the file system)."""
    if explicit is not None:
        return WarehouseChoice(Path(explicit).expanduser(), "option")
    configured = settings.configured_warehouse()
    if configured:
        return WarehouseChoice(configured, "$GRACE_WAREHOUSE")
    return WarehouseChoice(grace_home() / "warehouse.duckdb", "default")


def default_port() -> int:
    """`$PORT` when set (1-65535), else 8050."""
    return settings.port(DEFAULT_PORT)


def build_demo(path: Path, echo: Echo = print_now) -> None:
    """Build the demo warehouse at `path` through the real ETL, printing progress lines."""
    try:
        from grace_cli.demo_warehouse import build_demo_warehouse
    except ImportError as error:
        raise WarehouseError(f"{path}: no warehouse, and the demo builder is unavailable ({error})") from error
    scale = settings.demo_scale()
    size = f" at scale {scale:g}" if scale is not None else ""
    echo(f"No warehouse at {path}: building the demo warehouse{size} (synthetic metadata through the real ETL)…")
    started = time.monotonic()
    build_demo_warehouse(path, scale=scale, progress=LineProgress(echo), finish_later=True)
    echo(f"Demo referrals loaded in {time.monotonic() - started:.1f} s: {path}")
    from dashboards.auth.bootstrap import create_demo_user

    create_demo_user(echo)  # user `demo` (admin); random password printed once unless $GRACE_DEMO_PASSWORD
    from grace_cli.report_desk import schedule_demo_brief

    schedule_demo_brief(echo)


def ensure_warehouse(explicit: Path | str | None = None, echo: Echo = print_now) -> Path:
    """The warehouse file to serve, building the demo one when nothing is configured."""
    choice = choose_warehouse(explicit)
    if choice.path.exists():
        return choice.path
    if not choice.may_build_demo:
        where = "--warehouse" if choice.origin == "option" else choice.origin
        raise WarehouseError(f"{choice.path}: warehouse does not exist (given by {where})")
    build_demo(choice.path, echo)
    return choice.path


def url_for(host: str, port: int) -> str:
    """The address to open in a browser."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    return f"http://{shown}:{port}/"


def serve(
    warehouse: Path | str | None = None,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    debug: bool = False,
    echo: Echo = print_now,
    threads: int | None = None,
) -> None:
    """Ensure the warehouse, build the app and run it until interrupted.

    Served by waitress, a production WSGI server, with `threads` worker threads (default
    `GRACE_SERVER_THREADS`, 8); `debug` runs Flask's development server with Dash's dev tools instead.
    """
    from dashboards.app_factory import create_app, settle_heap  # imports Dash: only when serving
    from grace_cli.demo_finish import BackgroundFinish
    from grace_cli.demo_warehouse import demo_needs_finishing
    from grace_cli.report_desk import report_desk, start_first_report

    port = default_port() if port is None else port
    path = ensure_warehouse(warehouse, echo)
    from dashboards.auth.bootstrap import require_users

    require_users()  # nobody could sign in: say how to add a user instead of serving
    desk = report_desk(path)
    app = create_app(path, reports=desk)
    finishing = None
    if choose_warehouse(warehouse).may_build_demo:
        # the demo's first weekly brief, when the archive is empty: after the analysis it reports on
        if demo_needs_finishing(path):
            finishing = BackgroundFinish(path, on_done=lambda: start_first_report(desk, echo), echo=echo)
        else:
            start_first_report(desk, echo)
    threads = settings.server_threads() if threads is None else threads
    echo(f"GRACE Trends dashboard serving {path} (read-only)" + ("" if debug else f" with {threads} threads"))
    echo(f"Open {url_for(host, port)} in a browser; press Ctrl+C to stop.")
    sys.stdout.flush()
    if finishing is not None:
        finishing.start()
        if debug:  # Flask's reloader runs this function twice: finish first, so only one child ever runs
            finishing.wait()
    settle_heap()
    try:
        if debug:
            app.run(host=host, port=port, debug=True)
            return
        from waitress import serve as serve_wsgi

        # ident: no server name or version in the Server header (the app sets its own).
        serve_wsgi(app.server, host=host, port=port, threads=threads, ident="", clear_untrusted_proxy_headers=True)
    finally:
        if finishing is not None:
            finishing.stop()
