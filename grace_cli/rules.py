"""`grace rules check|preview|activate|show`: the agency's priority rules (YAML, versioned)."""

from __future__ import annotations

from pathlib import Path

import click

from grace_cli.options import warehouse_option


def register(cli: click.Group) -> None:
    cli.add_command(rules)


@click.group()
def rules() -> None:
    """Priority rules: conditions on a referral's features with weights, added to the model's probability
    and cut into tiers P1-P4. Edit a copy of the default (grace rules show --default), check it, preview
    what it would change, then activate it."""


FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@rules.command()
@click.argument("file", type=FILE)
def check(file) -> None:
    """Validate FILE; an error names the line and field."""
    from classification.rules import load_rule_set

    loaded = load_rule_set(file)
    click.echo(f"ok: {loaded.label}, {len(loaded.rules)} rule(s), tiers P1 ≥ {loaded.thresholds[0]}, "
               f"P2 ≥ {loaded.thresholds[1]}, P3 ≥ {loaded.thresholds[2]}")  # fmt: skip
    for rule in loaded.rules:
        click.echo(f"  {rule.id:<28}{rule.weight:+.2f}  {rule.description}")


@rules.command()
@warehouse_option
@click.argument("file", type=FILE)
def preview(warehouse, file) -> None:
    """What FILE would change: referrals moving from each current tier to each new tier."""
    from classification.rule_sets import preview as run_preview
    from classification.rules import load_rule_set
    from warehouse import check_schema, connect

    candidate = load_rule_set(file)
    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        moved = run_preview(con, candidate)
    finally:
        con.close()
    if moved.empty:
        click.echo("no scored referral yet: nothing would change")
        return
    table = moved.pivot_table(index="current_tier", columns="new_tier", values="referrals", fill_value=0)
    click.echo(f"rows: current tier; columns: tier under {candidate.label}")
    click.echo(table.to_string())
    changed = int(moved.loc[moved["current_tier"] != moved["new_tier"], "referrals"].sum())
    click.echo(f"{changed:,} of {int(moved['referrals'].sum()):,} scored referrals would change tier")


@rules.command()
@warehouse_option
@click.argument("file", type=FILE)
def activate(warehouse, file) -> None:
    """Make FILE the active rule set for new batches (re-score earlier referrals with grace model score)."""
    from classification.rule_sets import activate as run_activate
    from classification.rules import load_rule_set
    from warehouse import connect, ensure_schema

    loaded = load_rule_set(file)
    con = connect(warehouse)
    try:
        ensure_schema(con)
        run_activate(con, loaded)
    finally:
        con.close()
    click.echo(f"{loaded.label} is active (checksum {loaded.checksum[:12]}…); re-score with: grace model score")


@rules.command()
@warehouse_option
@click.option("--default", "shipped", is_flag=True, help="Print the shipped default rule set (a starting point).")
def show(warehouse, shipped) -> None:
    """Print the active rule set's YAML (the shipped default when none was activated)."""
    from classification.rules import DEFAULT_RULES
    from classification.scoring import active_rules
    from warehouse import connect, is_initialised

    if shipped or not warehouse.exists():
        click.echo(DEFAULT_RULES.read_text(encoding="utf-8"), nl=False)
        return
    con = connect(warehouse, read_only=True)
    try:
        text = active_rules(con).text if is_initialised(con) else DEFAULT_RULES.read_text(encoding="utf-8")
    finally:
        con.close()
    click.echo(text, nl=False)
