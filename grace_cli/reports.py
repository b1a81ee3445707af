"""`grace reports`: strategic reports and briefing decks from report definitions (see reporting/)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from grace_cli.options import OneLineErrors, warehouse_option


def register(cli: click.Group) -> None:
    """Attach this module's command group to the `grace` group."""
    cli.add_command(reports)


@click.group(name="reports")
def reports() -> None:
    """Build reports and briefing decks (HTML, PDF, PPTX, CSV annex) from report definitions.

    \b
    A definition (YAML) sets audience, marking, period, scope, k and sections of key figures,
    findings, catalogue charts and fixed text; the shipped templates are weekly-brief,
    strategic-monthly and europol-deck. Every number in the text is recomputed from the
    warehouse when the report is built; a report with a mismatch is refused.
    """


@reports.command(name="templates", cls=OneLineErrors)
def templates() -> None:
    """List the shipped report templates."""
    from reporting.definition import load_definition, template_names

    for name in template_names():
        definition = load_definition(name)
        click.echo(f"{name:20} {definition.kind:6} per {definition.grain:8} {definition.title}")


@reports.command(name="check", cls=OneLineErrors)
@click.argument("definition")
def check(definition) -> None:
    """Validate a report definition (a YAML file or a template name); errors name the line."""
    from reporting.definition import load_definition

    found = load_definition(definition)
    click.echo(f"{found.path}: ok ({len(found.sections)} sections, per {found.grain}, scope {found.scope})")


@reports.command(name="run", cls=OneLineErrors)
@click.argument("definition")
@warehouse_option
@click.option("--period", default="", help="'last-complete' (the definition's default) or a date inside the period.")
@click.option("--scope", default="", help="EU, an ISO3 country code or agency:CODE [default: the definition's].")
@click.option("--formats", default="html,pdf,pptx,csv", show_default=True, help="Comma-separated outputs.")
@click.option(
    "--k",
    type=click.IntRange(min=2),
    default=None,
    help="Small-cell threshold [default: definition, then GRACE_MIN_CELL].",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Archive folder [default: $GRACE_HOME/reports].",
)
def run(definition, warehouse, period, scope, formats, k, out) -> None:
    """Build one report now and archive it (outputs and manifest in a folder of its own).

    \b
    Examples:
      grace reports run weekly-brief
      grace reports run strategic-monthly --period 2024-03-01 --scope MLT
      grace reports run europol-deck --formats pptx,pdf --out /srv/briefings
    """
    from grace.config import grace_home
    from reporting.archive import write_run
    from reporting.content import build_report, verify
    from reporting.definition import load_definition
    from warehouse import WarehouseReader

    chosen = load_definition(definition).with_run(period=period or None, scope=scope or None)
    reader = WarehouseReader(warehouse)
    reader.check()
    report = build_report(chosen, reader, k=k)
    checked = verify(report)
    trigger = f"cli:{getpass.getuser()}"
    archived = write_run(
        report,
        chosen,
        out or grace_home() / "reports",
        [part.strip() for part in formats.split(",") if part.strip()],
        checked,
        trigger,
    )
    _audit(archived.manifest, trigger)
    click.echo(
        f"{archived.folder}: {report.title}, {report.period_label}, {report.scope_label}; "
        f"{checked} numbers checked; {', '.join(archived.manifest['files'])}"
    )


def _audit(manifest: dict, trigger: str) -> None:
    from dashboards.auth.audit import AuditLog

    AuditLog().record(
        "report_run",
        trigger,
        {
            "report": manifest["report"],
            "period": manifest["period"],
            "scope": manifest["scope"],
            "definition_sha256": manifest["definition"]["sha256"],
            "files": sorted(manifest["files"]),
        },
    )
