"""The `grace` command line: one entry point with a sub-command for every job.

Each sub-command lives in its own module in this package and is registered below. User
errors (`GraceError`) print one line on stderr and exit non-zero, without a traceback.
"""

from __future__ import annotations

import sys

import click

from grace import __version__
from grace.errors import GraceError


class GraceGroup(click.Group):
    """A click group that turns `GraceError` into a one-line message and exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GraceError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=GraceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grace")
def cli() -> None:
    """GRACE Trends: trend analytics over anonymised referral metadata.

    State lives in $GRACE_HOME (default ~/.grace); commands that touch the warehouse
    accept --warehouse PATH (default $GRACE_HOME/warehouse.duckdb).
    """


def _register() -> None:
    from grace_cli import (
        analyse,
        audit,
        demo,
        etl,
        hash,
        imports,
        matching,
        series,
        serve,
        simulate,
        users,
        warehouse,
    )

    for module in (simulate, hash, etl, matching, warehouse, imports, demo, serve, series, analyse, users, audit):
        module.register(cli)
    from grace_cli import banks, export, federation, findings, kernels, match, model, reports, rules

    for module in (findings, export, reports, banks, match, model, rules, federation, kernels):
        module.register(cli)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="grace", standalone_mode=True)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
