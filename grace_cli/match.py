"""`grace match FILE.csv`: look hashes up in the hash banks and among the warehouse's media clusters.

Reads only (the warehouse is opened read-only). The work is in `matching.lookup`; this module prints.
JSON shape (documented in docs/MATCHING.md, "grace match"):

    {"file", "rows", "lookups": {"made": [...], "not_made": {lookup: why}},
     "banks": [{bank_name, version, is_negative, pdq_threshold, enabled_entries}],
     "summary": {rows_with_active_bank_match, rows_with_suppressed_bank_match, rows_with_negative_bank_match,
                 rows_with_cluster_match, rows_without_match},
     "results": [{"row", "bank_matches": [{bank_name, bank_version, entry_id, match_kind, distance, category,
                  is_suppressed, is_negative}], "cluster_matches": [{match_kind, cluster_id, perceptual_id,
                  first_seen_date, country_count, occurrences, distance}]}]}   # one result per data row
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from grace_cli.banks import table
from grace_cli.options import OneLineErrors, warehouse_option

CLUSTER_FIELDS = [
    "match_kind",
    "cluster_id",
    "perceptual_id",
    "first_seen_date",
    "country_count",
    "occurrences",
    "distance",
]
LOOKUP_NAMES = {"banks": "hash banks", "clusters": "media clusters"}


def register(cli: click.Group) -> None:
    """Attach this module's command to the `grace` group."""
    cli.add_command(match)


@click.command(cls=OneLineErrors)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (shape in docs/MATCHING.md, 'grace match')."
)
@warehouse_option
def match(file, as_json, warehouse) -> None:
    """Match the hashes of FILE against the hash banks and the warehouse's media clusters.

    \b
    FILE is a CSV whose header names any of md5, sha1, pdq (other columns are refused by name); every
    row needs at least one valid hash (a bad value is reported with its row and field).
    Banks: every enabled entry, MD5 and SHA1 exactly, PDQ within each bank's threshold; a row that also
    matches a negative bank (known false positive) has its positive matches marked suppressed.
    Media clusters: the warehouse's clusters with the same MD5 or SHA1, with their perceptual cluster,
    first sighting, number of countries and occurrences. The output says which look-ups were made
    (PDQ near-duplicates among the media clusters are not available yet).
    """
    from matching.banks import list_banks
    from matching.lookup import match_file
    from warehouse import check_schema, connect

    con = connect(warehouse, read_only=True)
    try:
        check_schema(con, warehouse)
        found = match_file(con, file)
        banks = list_banks(con)
    finally:
        con.close()
    payload = _payload(file, found, banks)
    if as_json:
        click.echo(json.dumps(payload, indent=2))
    else:
        _print(payload)


def _records(frame, fields: list[str]) -> dict[int, list[dict]]:
    """query_index -> that query's rows as JSON-ready dicts."""
    out: dict[int, list[dict]] = {}
    if not len(frame):
        return out
    clean = frame.astype(object).where(frame.notna(), None)
    for index, rows in clean.groupby("query_index", sort=True):
        out[int(index)] = [_plain({f: r[f] for f in fields}) for r in rows.to_dict("records")]
    return out


def _plain(record: dict) -> dict:
    """Numbers and booleans as JSON's, dates as ISO 8601."""
    out = {}
    for key, value in record.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()[:10] if key == "first_seen_date" else value.isoformat()
        elif hasattr(value, "item"):
            value = value.item()
        out[key] = value
    return out


def _payload(file: Path, found: dict, banks: list[dict]) -> dict:
    from matching.bank_matcher import MATCH_COLUMNS

    queries = found["queries"]
    bank_rows = _records(found["bank_matches"], [c for c in MATCH_COLUMNS if c != "query_index"])
    cluster_rows = _records(found["cluster_matches"], CLUSTER_FIELDS)
    results = []
    summary = dict.fromkeys(
        ["rows_with_active_bank_match", "rows_with_suppressed_bank_match", "rows_with_negative_bank_match",
         "rows_with_cluster_match", "rows_without_match"], 0,
    )  # fmt: skip
    for index, row in zip(queries["query_index"].tolist(), queries["row"].tolist()):
        matched, clusters = bank_rows.get(index, []), cluster_rows.get(index, [])
        summary["rows_with_active_bank_match"] += any(not m["is_negative"] and not m["is_suppressed"] for m in matched)
        summary["rows_with_suppressed_bank_match"] += any(m["is_suppressed"] for m in matched)
        summary["rows_with_negative_bank_match"] += any(m["is_negative"] for m in matched)
        summary["rows_with_cluster_match"] += bool(clusters)
        summary["rows_without_match"] += not matched and not clusters
        results.append({"row": int(row), "bank_matches": matched, "cluster_matches": clusters})
    return {
        "file": str(file),
        "rows": len(queries),
        "lookups": {"made": found["lookups"], "not_made": found["not_made"]},
        "banks": [
            {k: b[k] for k in ("bank_name", "version", "is_negative", "pdq_threshold", "enabled_entries")}
            for b in banks
        ],
        "summary": summary,
        "results": results,
    }


def _lookup_text(names: list[str]) -> str:
    grouped: dict[str, list[str]] = {}
    for name in names:
        where, kind = name.split(":")
        grouped.setdefault(LOOKUP_NAMES.get(where, where), []).append(kind)
    return "; ".join(f"{where} by {', '.join(kinds)}" for where, kinds in grouped.items()) or "none"


def _print(payload: dict) -> None:
    banks = ", ".join(
        f"{b['bank_name']} {b['version']}" + (" (negative)" if b["is_negative"] else "") for b in payload["banks"]
    )
    click.echo(f"{payload['file']}: {payload['rows']:,} row(s) of hashes; banks: {banks or 'none'}")
    click.echo(f"look-ups made: {_lookup_text(payload['lookups']['made'])}")
    for name, why in payload["lookups"]["not_made"].items():
        click.echo(f"not made: {_lookup_text([name])} — {why}")
    bank_table = [
        {"row": r["row"], **m, "status": "negative" if m["is_negative"] else "suppressed" if m["is_suppressed"] else "active"}
        for r in payload["results"] for m in r["bank_matches"]
    ]  # fmt: skip
    cluster_table = [{"row": r["row"], **m} for r in payload["results"] for m in r["cluster_matches"]]
    click.echo("")
    if bank_table:
        click.echo("bank matches")
        click.echo(
            table(
                bank_table,
                ["row", "bank_name", "bank_version", "entry_id", "match_kind", "distance", "category", "status"],
            )
        )
    else:
        click.echo("bank matches: none")
    click.echo("")
    if cluster_table:
        click.echo("media clusters")
        click.echo(
            table(
                cluster_table,
                ["row", "match_kind", "cluster_id", "perceptual_id", "first_seen_date", "country_count", "occurrences"],
            )
        )
    else:
        click.echo("media clusters: none")
    s = payload["summary"]
    click.echo("")
    click.echo(
        f"{s['rows_with_active_bank_match']:,} row(s) with an active bank match, {s['rows_with_suppressed_bank_match']:,} "
        f"suppressed by a negative bank, {s['rows_with_cluster_match']:,} with a media cluster, "
        f"{s['rows_without_match']:,} without any match"
    )
