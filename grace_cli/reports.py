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
    from reporting.run import run_report

    trigger = f"cli:{getpass.getuser()}"
    archived = run_report(
        definition, warehouse, out or _archive(), _formats(formats), trigger, period=period, scope=scope, k=k
    )
    _audit(archived.manifest, trigger)
    manifest = archived.manifest
    click.echo(
        f"{archived.folder}: {manifest['title']}, {manifest['period']}, {manifest['scope']}; "
        f"{manifest['numbers_checked']} numbers checked; {', '.join(manifest['files'])}"
    )


@reports.group(name="schedule")
def schedule() -> None:
    """Report schedules (cron expressions in UTC), run by `grace reports due` from cron or a systemd timer."""


@schedule.command(name="add", cls=OneLineErrors)
@click.argument("definition")
@click.option("--cron", required=True, help="When, in UTC: five cron fields, e.g. '0 6 * * MON' (Mondays 06:00).")
@click.option("--scope", default="", help="EU, an ISO3 country code or agency:CODE [default: the definition's].")
@click.option("--name", default="", help="The schedule's name [default: DEFINITION, plus the scope when given].")
@click.option("--formats", default="html,pdf,pptx,csv", show_default=True, help="Comma-separated outputs.")
@click.option("--deliver-to", default="", type=click.Path(file_okay=False), help="Also copy each run into this folder.")
@click.option("--email", "emails", multiple=True, help="E-mail each run (PDF attached) to this address; repeatable.")
def schedule_add(definition, cron, scope, name, formats, deliver_to, emails) -> None:
    """Schedule a report definition (a template name or a YAML file, checked now)."""
    from reporting.definition import load_definition

    load_definition(definition).with_run(scope=scope or None)  # refuse a bad definition or scope now
    name = name or (f"{Path(definition).stem}-{scope.replace(':', '-')}" if scope else Path(definition).stem).lower()
    if emails:
        from grace.settings import smtp_settings

        if smtp_settings() is None:
            raise click.ClickException("--email needs an SMTP server: set $GRACE_SMTP_HOST")
    added = _store().add(
        name,
        str(definition),
        cron,
        scope,
        _formats(formats),
        f"cli:{getpass.getuser()}",
        deliver_to=str(Path(deliver_to).resolve()) if deliver_to else "",
        emails=emails,
    )
    from datetime import UTC, datetime

    click.echo(
        f"{added.name}: {added.definition} at '{added.cron}' (next {added.next_fire(datetime.now(UTC)):%Y-%m-%d %H:%M} UTC)"
    )


@schedule.command(name="list", cls=OneLineErrors)
def schedule_list() -> None:
    """Every schedule with its next run, and the latest runs (failed ones with why)."""
    from datetime import UTC, datetime

    store = _store()
    now = datetime.now(UTC)
    for item in store.schedules():
        scope = f" scope {item.scope}" if item.scope else ""
        click.echo(
            f"{item.name:28} '{item.cron}' {item.definition}{scope} — next {item.next_fire(now):%Y-%m-%d %H:%M} UTC"
        )
    for run in store.runs(limit=20):
        outcome = run["folder"] if run["status"] == "done" else (run["error"] or "")
        click.echo(f"  {run['fire_time']} {run['schedule']:28} {run['status']:8} attempt {run['attempts']} {outcome}")


@schedule.command(name="remove", cls=OneLineErrors)
@click.argument("name")
def schedule_remove(name) -> None:
    """Remove a schedule (its archived runs stay)."""
    _store().remove(name)
    click.echo(f"removed {name}")


@schedule.command(name="run", cls=OneLineErrors)
@click.argument("name")
@warehouse_option
@click.option("--period", default="", help="'last-complete' or a date inside the period [default: last complete].")
def schedule_run(name, warehouse, period) -> None:
    """Run a scheduled report now (outside its schedule), into the archive."""
    found = {item.name: item for item in _store().schedules()}
    if name not in found:
        raise click.ClickException(f"no schedule named {name!r}")
    item = found[name]
    from reporting.run import run_report

    trigger = f"cli:{getpass.getuser()} (schedule {name}, by hand)"
    archived = run_report(
        item.definition, warehouse, _archive(), item.formats, trigger, period=period, scope=item.scope
    )
    _audit(archived.manifest, trigger)
    click.echo(str(archived.folder))


@reports.command(name="due", cls=OneLineErrors)
@warehouse_option
def due(warehouse) -> None:
    """Run every scheduled report that is due (for cron or a systemd timer, e.g. every 5 minutes).

    \b
    A missed run (the machine was off) is caught up once; a run is never produced twice, even by two
    processes at once; a failed run is retried on the next calls, three attempts in all. Exit 1 when a
    run failed.
    """
    from datetime import UTC, datetime

    from reporting.run import run_report

    store = _store()
    failed = 0
    for claim in store.claim_due(datetime.now(UTC)):
        trigger = f"schedule {claim.schedule.name} ({claim.fire_time}, attempt {claim.attempt})"
        try:
            archived = run_report(
                claim.schedule.definition,
                warehouse,
                _archive(),
                claim.schedule.formats,
                trigger,
                scope=claim.schedule.scope,
            )
            _deliver(claim.schedule, archived.folder)
        except Exception as error:  # recorded and retried; the other due runs still run
            store.finish(claim, error=f"{type(error).__name__}: {error}")
            click.echo(f"{claim.schedule.name}: failed (attempt {claim.attempt}): {error}", err=True)
            failed += 1
            continue
        store.finish(claim, folder=str(archived.folder))
        _audit(archived.manifest, trigger)
        click.echo(f"{claim.schedule.name}: {archived.folder}")
    if failed:
        raise SystemExit(1)


def _deliver(item, folder: Path) -> None:
    """A scheduled run's delivery: the shared folder, then the e-mail (a failure fails the run, retried)."""
    from reporting.delivery import deliver_to_folder, send_report

    if item.deliver_to:
        deliver_to_folder(folder, Path(item.deliver_to))
    if item.emails:
        send_report(folder, item.emails)


def _archive() -> Path:
    from grace_cli.report_desk import reports_home

    return reports_home()


def _store():
    from grace_cli.report_desk import schedule_store

    return schedule_store()


def _formats(text) -> list[str]:
    return [part.strip() for part in (text if isinstance(text, str) else ",".join(text)).split(",") if part.strip()]


def _audit(manifest: dict, trigger: str) -> None:
    from reporting.audit import record_run

    record_run(manifest, trigger)
