"""Run the GRACE Trends dashboard: `python app.py [--host H] [--port N]`.

With no warehouse configured ($GRACE_WAREHOUSE unset and no $GRACE_HOME/warehouse.duckdb),
the demo warehouse is built first. The same as `grace serve`; see grace_cli/server.py.
"""

from __future__ import annotations

import argparse
import sys

from grace.errors import GraceError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from grace_cli.server import DEFAULT_HOST

    parser = argparse.ArgumentParser(description="Serve the GRACE Trends dashboard.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on [default: {DEFAULT_HOST}]")
    parser.add_argument("--port", type=int, default=None, help="port to listen on [default: $PORT or 8050]")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (reloader and dev tools)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from grace_cli.server import serve

    args = parse_args(argv)
    try:
        serve(host=args.host, port=args.port, debug=args.debug)
    except GraceError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
