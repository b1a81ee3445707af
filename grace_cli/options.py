"""Options shared by several sub-commands."""

from __future__ import annotations

import os
from pathlib import Path

import click

from grace.config import default_warehouse_path
from grace.errors import ConfigError


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


def jobs_option(func):
    """`--jobs N` worker processes, defaulting to 2 (1 on a single core), resolved at run time."""
    return click.option(
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes [default: 2, or 1 on a single core]. Results do not depend on it.",
        callback=lambda _ctx, _param, value: value or min(2, os.cpu_count() or 1),
    )(func)


class OneLineErrors(click.Command):
    """A command whose usage errors (bad option values) are reported in one line, like user errors."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise ConfigError(error.format_message()) from error
