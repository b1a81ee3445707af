"""`grace serve`: run the dashboard (building the demo warehouse when none is configured)."""

from __future__ import annotations

from pathlib import Path

import click

from grace_cli.server import DEFAULT_HOST


@click.command("serve")
@click.option(
    "--warehouse",
    "warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Warehouse file, opened read-only; must exist "
    "[default: $GRACE_WAREHOUSE, else $GRACE_HOME/warehouse.duckdb, built as the demo if missing].",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [default: $PORT or 8050].")
@click.option(
    "--threads", type=click.IntRange(1, 256), default=None, help="Worker threads [default: $GRACE_SERVER_THREADS or 8]."
)
@click.option("--debug", is_flag=True, help="Flask's development server with Dash's dev tools (never in production).")
def serve_command(warehouse: Path | None, host: str, port: int | None, threads: int | None, debug: bool) -> None:
    """Serve the dashboard at http://HOST:PORT/.

    The warehouse is opened read-only. With nothing configured, the demo warehouse (synthetic
    metadata through the real ETL; size from $GRACE_DEMO_SCALE) is built first. Served by waitress
    (a production WSGI server) with --threads worker threads.
    """
    from grace_cli.server import serve

    serve(warehouse=warehouse, host=host, port=port, debug=debug, threads=threads)


def register(cli) -> None:
    """Attach this module's commands to the `grace` group."""
    cli.add_command(serve_command)
