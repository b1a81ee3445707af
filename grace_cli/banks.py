"""`grace banks import|list|disable|enable|history`: hash banks of known material (and of known false
positives) in the warehouse. The work is in `matching.banks`; this module parses options and prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from grace_cli.options import OneLineErrors, warehouse_option


def register(cli: click.Group) -> None:
    """Attach this module's commands to the `grace` group."""
    cli.add_command(banks)


@click.group()
def banks() -> None:
    """Hash banks: versioned lists of known hashes (MD5, SHA1, PDQ) with a category scheme and source.

    A positive bank lists known material (categories: industry A1/A2/B1/B2 or vics 0-3); a negative
    bank (scheme none) lists known false positives and suppresses positive matches of the same media.
    Media clusters already in the warehouse are re-matched after every change. See docs/MATCHING.md.
    """


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain aligned text table (numbers right-aligned)."""
    cells = [[("" if r.get(c) is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), int) for r in rows if r.get(c) is not None) for c in columns]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(row) for row in cells)])


@banks.command(name="import", cls=OneLineErrors)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--bank", required=True, help="Bank name (letters, digits, '_', '.', '-'); created on first import.")
@click.option(
    "--scheme",
    required=True,
    type=click.Choice(["industry", "vics", "none"]),
    help="Category scheme (none: negative banks).",
)
@click.option("--version", "version", required=True, help="This file's version of the bank (e.g. 2024-06 or 3.1).")
@click.option("--source", required=True, help="Where the list comes from (provider and edition; no descriptions).")
@click.option(
    "--threshold", type=click.IntRange(0, 256), default=31, show_default=True, help="PDQ match threshold in bits."
)
@click.option(
    "--negative", is_flag=True, help="A bank of known false positives (scheme none): suppresses positive matches."
)
@warehouse_option
def import_command(file, bank, scheme, version, source, threshold, negative, warehouse) -> None:
    """Import FILE as version --version of bank --bank.

    \b
    FILE is a CSV whose header names some of md5, sha1, pdq (at least one) and category (required for
    a positive bank; codes of --scheme only). Hex is lower-cased. Any bad row refuses the whole file
    (the error names row and field) and the warehouse stays as it was.
    A new version keeps the entries it lists again, adds new ones, and disables (never deletes) the
    ones it no longer lists. Importing the same file as the same version again changes nothing.
    Media clusters already loaded are matched against the bank; is_known and the file rollup follow.
    """
    from matching.banks import import_bank
    from warehouse import connect

    con = connect(warehouse)
    try:
        result = import_bank(
            con, file, bank, scheme=scheme, version=version, source=source, pdq_threshold=threshold, negative=negative
        )
    finally:
        con.close()
    if result["status"] == "unchanged":
        click.echo(
            f"{file}: already imported as version {version} of bank {bank} ({result['entries']:,} entries, "
            f"{result['imported_at']:%Y-%m-%d %H:%M} UTC); nothing changed"
        )
        return
    click.echo(
        f"bank {bank} version {version}: {result['entries']:,} entries ({result['added']:,} new, {result['kept']:,} kept, "
        f"{result['removed']:,} disabled as no longer listed, {result['restored']:,} restored, "
        f"{result['recategorised']:,} recategorised); {result['matches_added']:,} new match(es) among the media "
        f"clusters; {result['known_changed_clusters']:,} cluster(s) changed known status"
    )


@banks.command(name="list", cls=OneLineErrors)
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON list of banks (every column below, timestamps ISO 8601 UTC)."
)
@warehouse_option
def list_command(as_json, warehouse) -> None:
    """Every bank: kind, scheme, version, source, PDQ threshold, entries (enabled; with an MD5 / SHA1 /
    PDQ), media clusters matched, created and updated. Reads only (the warehouse is opened read-only)."""
    from matching.banks import list_banks
    from warehouse import check_schema, connect

    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        found = list_banks(con)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(found, indent=2, default=_iso))
        return
    if not found:
        click.echo("no banks (import one with `grace banks import`)")
        return
    rows = [
        {**b, "kind": "negative" if b["is_negative"] else "positive", "updated_at": f"{b['updated_at']:%Y-%m-%d %H:%M}"}
        for b in found
    ]
    columns = ["bank_name", "kind", "scheme", "version", "pdq_threshold", "entries", "enabled_entries", "md5_entries",
               "sha1_entries", "pdq_entries", "matched_clusters", "updated_at", "source"]  # fmt: skip
    click.echo(table(rows, columns))


def _set_enabled(bank: str, entry: int | None, hash_: str | None, enabled: bool, warehouse: Path) -> None:
    from grace.errors import ConfigError
    from matching.banks import set_entry_enabled
    from warehouse import connect

    if (entry is None) == (hash_ is None):
        raise ConfigError("name the entry with exactly one of --entry ID and --hash HEX")
    con = connect(warehouse)
    try:
        result = set_entry_enabled(con, bank, entry_id=entry, hash=hash_, enabled=enabled)
    finally:
        con.close()
    state = "enabled" if enabled else "disabled"
    if result["status"] == "unchanged":
        click.echo(f"entry {result['entry_id']} of bank {bank} is already {state}; nothing changed")
        return
    click.echo(
        f"entry {result['entry_id']} of bank {bank} {state}; {result['matches_added']:,} new match(es), "
        f"{result['known_changed_clusters']:,} cluster(s) changed known status, "
        f"{result['file_rollup_dates']:,} rollup day(s) recomputed"
    )


_ENTRY = click.option("--entry", type=int, default=None, help="The entry's id (see `grace banks history`).")
_HASH = click.option("--hash", "hash_", default=None, help="One of the entry's hashes: MD5, SHA1 or PDQ hex.")


@banks.command(cls=OneLineErrors)
@click.argument("bank")
@_ENTRY
@_HASH
@warehouse_option
def disable(bank, entry, hash_, warehouse) -> None:
    """Disable one hash of BANK (by --entry ID or --hash HEX): its matches stop counting (is_known, rollups;
    for a negative bank, the matches it suppressed count again). Logged in the bank's history."""
    _set_enabled(bank, entry, hash_, False, warehouse)


@banks.command(cls=OneLineErrors)
@click.argument("bank")
@_ENTRY
@_HASH
@warehouse_option
def enable(bank, entry, hash_, warehouse) -> None:
    """Enable one disabled hash of BANK again (by --entry ID or --hash HEX): the media clusters are
    matched against it again; is_known and the rollups follow. Logged in the bank's history."""
    _set_enabled(bank, entry, hash_, True, warehouse)


@banks.command(cls=OneLineErrors)
@click.argument("bank")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of changes.")
@warehouse_option
def history(bank, as_json, warehouse) -> None:
    """Every change to BANK, oldest first: imports (version, entries, file checksum and path), entries
    removed, restored or recategorised by a version, and hashes disabled or enabled by hand. Reads only."""
    from matching.banks import bank_history
    from warehouse import check_schema, connect

    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        changes = bank_history(con, bank)
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps(changes, indent=2, default=_iso))
        return
    rows = [
        {**c, "changed_at": f"{c['changed_at']:%Y-%m-%d %H:%M:%S}", "checksum": (c["checksum"] or "")[:12]}
        for c in changes
    ]
    click.echo(table(rows, ["changed_at", "version", "action", "entry_id", "entries", "checksum", "source_path"]))


def _iso(value: object) -> str:
    """JSON for timestamps and dates: ISO 8601."""
    isoformat = getattr(value, "isoformat", None)
    if isoformat is None:
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")
    return str(isoformat())
