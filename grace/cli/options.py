"""Options shared by several sub-commands."""

from __future__ import annotations

from pathlib import Path

import click

from grace.config import default_warehouse_path


def warehouse_option(func):
    """`--warehouse PATH`, defaulting to $GRACE_HOME/warehouse.duckdb (resolved at run time)."""
    return click.option(
        "--warehouse",
        "warehouse",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Warehouse file [default: $GRACE_HOME/warehouse.duckdb].",
        callback=lambda _ctx, _param, value: value or default_warehouse_path(),
    )(func)
