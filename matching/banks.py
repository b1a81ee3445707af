"""Hash banks in the warehouse: named, versioned lists of known hashes (MD5, SHA1, PDQ) with provenance.

- `import_bank` loads a bank file (`matching.bank_file`) as a bank's new version, whole file or nothing,
  in one transaction, then retro-matches the media clusters already loaded against the bank.
- `set_entry_enabled` disables or enables one hash of a bank (logged), with the same re-evaluation.
- `record_bank_matches` is the ETL's call: a batch's clusters matched by a `BankMatcher`, recorded
  (no rollups: the ETL recomputes those itself).
- `list_banks`, `bank_history` read.

Versions: entries are identified by their hashes (md5, sha1, pdq together). A new version keeps the
entries it lists again (with their entry id, `version_added` and enabled flag; a changed category code
is taken over, logged 'recategorised'), adds the new ones, and disables — never deletes — the enabled
entries it no longer lists (logged 'removed_in_version' per entry; their match history stays); an entry
a version removed is enabled again when a later version lists it ('restored_in_version'), an entry
disabled by hand is not. Re-importing a file already imported as the same version changes nothing;
another file under a version already imported is refused. See docs/MATCHING.md, "Hash banks".
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from grace.checksums import file_checksum
from grace.errors import ConfigError, GraceError, InputFileError
from matching.bank_file import SCHEMES, stage_bank_file
from matching.bank_matcher import BankMatcher
from matching.bank_refresh import add_found, now, record_found, retro_match, settle, snapshot_active
from warehouse import ensure_schema, read_sql

DEFAULT_PDQ_THRESHOLD = 31
_BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,39}$")
SOURCE_MAX_LENGTH = 200


class BankError(GraceError, ValueError):
    """A bank operation that cannot be done as asked (unknown bank or entry, wrong scheme, bad option)."""


def check_bank_options(bank: str, *, scheme: str, version: str, source: str, pdq_threshold: int, negative: bool):
    """Refuse a bad bank name, version, source, threshold or scheme (for the bank's kind)."""
    if not _BANK_NAME.match(bank or ""):
        raise ConfigError(f"bank name {bank!r}: 1-64 letters, digits, '_', '.', '-' (starting with a letter or digit)")
    if not _VERSION.match(version or ""):
        raise ConfigError(f"version {version!r}: 1-40 letters, digits, '_', '.', ':', '+', '-'")
    if not source or not source.strip() or len(source) > SOURCE_MAX_LENGTH or not source.isprintable():
        raise ConfigError(f"source: 1-{SOURCE_MAX_LENGTH} printable characters (the list's provider and edition)")
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme {scheme!r}: one of {', '.join(SCHEMES)}")
    if negative != (scheme == "none"):
        raise ConfigError(
            "a negative bank (known false positives) has scheme 'none'; a positive bank has scheme industry or vics"
        )
    if not 0 <= pdq_threshold <= 256:
        raise ConfigError(f"PDQ threshold {pdq_threshold}: from 0 to 256 bits (31 is PDQ's near-duplicate threshold)")


def get_bank(con: duckdb.DuckDBPyConnection, bank: str) -> dict | None:
    """The bank's row as a dict, or None."""
    row = con.execute(read_sql("matching/bank_get.sql"), {"bank": bank}).fetchone()
    if row is None:
        return None
    keys = ("bank_name", "is_negative", "scheme", "version", "source", "pdq_threshold", "created_at", "updated_at")
    return dict(zip(keys, row))


def import_bank(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    bank: str,
    *,
    scheme: str,
    version: str,
    source: str,
    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD,
    negative: bool = False,
) -> dict:
    """Import `path` as version `version` of `bank`; returns what happened (status 'loaded' or 'unchanged',
    entry counts, matches found, clusters whose is_known changed, rollup dates recomputed).

    The whole file is validated first (`InputFileError` naming file, row and field); the load, the
    retro-matching and the rollups run in one transaction: on any error the warehouse is unchanged.
    """
    path = Path(path)
    check_bank_options(
        bank, scheme=scheme, version=version, source=source, pdq_threshold=pdq_threshold, negative=negative
    )
    if not path.is_file():
        raise InputFileError(path, "no such file")
    ensure_schema(con)
    existing = get_bank(con, bank)
    if existing and (existing["scheme"], existing["is_negative"]) != (scheme, negative):
        kind = "negative" if existing["is_negative"] else "positive"
        raise BankError(
            f"bank {bank!r} is a {kind} bank of scheme {existing['scheme']!r}; a new version cannot change that"
        )
    checksum = file_checksum(path)
    import_id = f"import:{bank}:{version}"
    earlier = con.execute(
        read_sql("matching/bank_imports_of_version.sql"), {"bank": bank, "version": version}
    ).fetchall()
    if earlier and any(row[0] == checksum for row in earlier):
        return {"status": "unchanged", "bank": bank, "version": version, "current_version": existing and existing["version"],
                "import_id": import_id, "imported_at": earlier[0][1], "entries": int(earlier[0][2])}  # fmt: skip
    if earlier:
        raise BankError(
            f"{path}: version {version!r} of bank {bank!r} was imported from another file (checksum "
            f"{earlier[0][0][:12]}…); give this file a new version"
        )
    rows = stage_bank_file(con, path, scheme=scheme, negative=negative)
    moment = now()
    params = {"bank": bank, "version": version, "now": moment}
    con.execute("BEGIN TRANSACTION")
    try:
        snapshot_active(con)
        if existing:
            con.execute(read_sql("matching/bank_update.sql"), {**params, "source": source, "threshold": pdq_threshold})
        else:
            con.execute(
                read_sql("matching/bank_insert.sql"),
                {**params, "source": source, "threshold": pdq_threshold, "negative": negative, "scheme": scheme},
            )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bank_incoming AS " + read_sql("matching/bank_incoming.sql"), {"bank": bank}
        )
        counts = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE entry_id IS NULL) FROM bank_incoming"
        ).fetchone() or (0, 0)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bank_entry_changes AS " + read_sql("matching/entry_changes_of_import.sql"),
            {"bank": bank},
        )
        changes = dict(con.execute("SELECT action, count(*) FROM bank_entry_changes GROUP BY action").fetchall())
        con.execute(read_sql("matching/apply_entry_changes.sql"), {"bank": bank})
        con.execute(read_sql("matching/log_entry_changes.sql"), params)
        con.execute(read_sql("matching/insert_new_entries.sql"), {"bank": bank, "version": version})
        con.execute(
            read_sql("matching/log_change.sql"),
            {**params, "action": "import", "entry_id": None, "entries": int(counts[0]), "checksum": checksum,
             "source_path": str(path)},
        )  # fmt: skip
        retro_match(con, bank)
        matches = record_found(con, import_id, moment)
        settled = settle(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for table in ("stg_bank", "bank_incoming", "bank_entry_changes"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return {
        "status": "loaded",
        "bank": bank,
        "version": version,
        "import_id": import_id,
        "rows": rows,
        "entries": int(counts[0]),
        "added": int(counts[1]),
        "kept": int(counts[0]) - int(counts[1]),
        "removed": int(changes.get("removed_in_version", 0)),
        "restored": int(changes.get("restored_in_version", 0)),
        "recategorised": int(changes.get("recategorised", 0)),
        "matches_added": matches,
        **settled,
    }


def resolve_entry(
    con: duckdb.DuckDBPyConnection, bank: str, *, entry_id: int | None, hash: str | None
) -> tuple[int, bool]:
    """(entry id, is_enabled) of one entry of `bank`, by id or by one of its hashes (hex, any case)."""
    if (entry_id is None) == (hash is None):
        raise BankError("name exactly one entry: by its entry id or by one of its hashes")
    if entry_id is not None:
        row = con.execute(read_sql("matching/entry_get.sql"), {"bank": bank, "entry_id": int(entry_id)}).fetchone()
        if row is None:
            raise BankError(f"bank {bank!r} has no entry {entry_id}")
        return int(row[0]), bool(row[1])
    value = (hash or "").strip().lower()
    if len(value) not in (32, 40, 64) or not re.fullmatch(r"[0-9a-f]+", value):
        raise BankError("a hash is 32 (MD5), 40 (SHA1) or 64 (PDQ) hexadecimal characters")
    rows = con.execute(read_sql("matching/entries_by_hash.sql"), {"bank": bank, "hash": value}).fetchall()
    if not rows:
        raise BankError(f"bank {bank!r} has no entry with that hash")
    if len(rows) > 1:
        raise BankError(
            f"that hash is in entries {', '.join(str(r[0]) for r in rows)} of bank {bank!r}; name one by id"
        )
    return int(rows[0][0]), bool(rows[0][1])


def set_entry_enabled(
    con: duckdb.DuckDBPyConnection, bank: str, *, entry_id: int | None = None, hash: str | None = None, enabled: bool
) -> dict:
    """Disable or enable one entry of `bank` (by entry id or by its MD5, SHA1 or PDQ hex), logged in
    hash_bank_change; matches, suppression, is_known and rollups follow, in one transaction.
    Returns status 'changed' or 'unchanged' (already in that state), the entry id and counts."""
    ensure_schema(con)
    found = get_bank(con, bank)
    if found is None:
        raise BankError(f"no bank named {bank!r} (see `grace banks list`)")
    entry, is_enabled = resolve_entry(con, bank, entry_id=entry_id, hash=hash)
    result = {"bank": bank, "entry_id": entry, "enabled": enabled}
    if is_enabled == enabled:
        return {"status": "unchanged", **result}
    action = "enable" if enabled else "disable"
    moment = now()
    con.execute("BEGIN TRANSACTION")
    try:
        snapshot_active(con)
        con.execute(read_sql("matching/entry_set_enabled.sql"), {"bank": bank, "entry_id": entry, "enabled": enabled})
        con.execute(
            read_sql("matching/log_change.sql"),
            {"bank": bank, "version": found["version"], "action": action, "entry_id": entry, "entries": 1,
             "checksum": None, "source_path": None, "now": moment},
        )  # fmt: skip
        matches = 0
        if enabled:  # the clusters loaded while it was disabled were not matched against it
            retro_match(con, bank, entry)
            matches = record_found(con, f"{action}:{bank}:{entry}", moment)
        settled = settle(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"status": "changed", **result, "matches_added": matches, **settled}


def record_bank_matches(
    con: duckdb.DuckDBPyConnection, matcher: BankMatcher, clusters: pd.DataFrame, found_by: str
) -> int:
    """The ETL's call, inside its batch transaction: match `clusters` (cluster_id — int or decimal text of
    the UHUGEINT —, md5, sha1, pdq hex or None) against `matcher`, record the new matches in bank_match
    (found_by = the batch id), refresh suppression and set these clusters' is_known. Rollups are not
    touched: the ETL recomputes them. Returns the number of match rows added."""
    if not len(clusters) or not len(matcher):
        return 0
    matches = matcher.match(
        md5=clusters["md5"].to_numpy(object),
        sha1=clusters["sha1"].to_numpy(object),
        pdq=clusters["pdq"].to_numpy(object),
    )
    snapshot_active(con)
    ids = pd.DataFrame({"cluster_id": clusters["cluster_id"].astype(str).to_numpy(object)})
    con.register("bank_batch_frame", ids)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE bank_batch_clusters AS "
            "SELECT DISTINCT CAST(cluster_id AS UHUGEINT) AS cluster_id FROM bank_batch_frame"
        )
    finally:
        con.unregister("bank_batch_frame")
    if len(matches):
        matches["cluster_id"] = ids["cluster_id"].to_numpy(object)[matches["query_index"].to_numpy()]
        add_found(con, matches)
    added = record_found(con, found_by, now())
    settle(con, clusters="bank_batch_clusters", rollups=False)
    con.execute("DROP TABLE bank_batch_clusters")
    return added


def list_banks(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every bank: name, negative, scheme, version, source, threshold, entry counts (all, enabled, with an
    MD5 / SHA1 / PDQ), clusters matched, created and updated (UTC)."""
    cursor = con.execute(read_sql("matching/banks_list.sql"))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def bank_history(con: duckdb.DuckDBPyConnection, bank: str) -> list[dict]:
    """The bank's changes, oldest first; an unknown bank is a `BankError`."""
    if get_bank(con, bank) is None:
        raise BankError(f"no bank named {bank!r} (see `grace banks list`)")
    cursor = con.execute(read_sql("matching/bank_history.sql"), {"bank": bank})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
