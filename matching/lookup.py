"""`grace match`: look a file of hashes up in the hash banks and among the warehouse's media clusters.

The query file is a CSV whose header names any of `md5`, `sha1`, `pdq` (nothing else); it is validated
as a whole like a bank file (`matching.bank_file`: row and field of the first problem). Look-ups:

- banks: every enabled entry of every bank, MD5 / SHA1 exactly and PDQ within each bank's threshold,
  with negative-bank suppression (`BankMatcher`);
- clusters: the warehouse's media clusters by exact hash, and by PDQ within the radius the warehouse
  was clustered with, through the near-duplicate index beside it (`matching.cluster_index`; opened
  read-only: nothing is written), one function per hash kind in `CLUSTER_LOOKUPS`. The result says
  which look-ups were made and which were not.

Reads only: the warehouse connection may be read-only (the staged query file is a temp table).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from grace import settings
from grace.errors import InputFileError
from matching.bank_file import HASH_COLUMNS, check_header, first_problem, read_bank_header, stage_text
from matching.bank_matcher import BankMatcher
from matching.cluster_index import ClusterIndex
from matching.pdq import parse_hex
from warehouse import read_sql

CLUSTER_COLUMNS = [
    "query_index",
    "match_kind",
    "cluster_id",
    "perceptual_id",
    "first_seen_date",
    "country_count",
    "occurrences",
]


def _exact_cluster_matches(con: duckdb.DuckDBPyConnection, queries: pd.DataFrame) -> pd.DataFrame:
    """Media clusters with the same MD5 or SHA1 as a query (`sql/matching/cluster_exact_matches.sql`)."""
    con.register("match_queries_frame", queries[["query_index", "md5", "sha1"]])
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE match_queries AS SELECT * FROM match_queries_frame")
        found = con.execute(read_sql("matching/cluster_exact_matches.sql")).df()
    finally:
        con.unregister("match_queries_frame")
        con.execute("DROP TABLE IF EXISTS match_queries")
    found["distance"] = 0
    return found


def _pdq_cluster_matches(con: duckdb.DuckDBPyConnection, queries: pd.DataFrame) -> pd.DataFrame:
    """Media clusters whose indexed PDQ lies within the warehouse's radius of a query's PDQ."""
    asked = queries.loc[queries["pdq"].notna(), ["query_index", "pdq"]]
    index = ClusterIndex.open(con, clustered_radius(con), read_only=True)
    found = index.search(parse_hex(asked["pdq"].tolist())) if len(asked) and len(index) else None
    hits = pd.DataFrame(
        {
            "query_index": asked["query_index"].to_numpy()[found.query_index] if found is not None else [],
            "slot": found.id if found is not None else [],
            "distance": found.distance if found is not None else [],
        }
    )
    con.register("pdq_found", hits)
    try:
        return con.execute(read_sql("matching/cluster_pdq_matches.sql")).df()
    finally:
        con.unregister("pdq_found")


def clustered_radius(con: duckdb.DuckDBPyConnection) -> int:
    """The PDQ radius the warehouse's perceptual clusters were made with (else the one set now)."""
    found = con.execute("SELECT value FROM warehouse_meta WHERE key = 'pdq_radius'").fetchone()
    return int(found[0]) if found else settings.pdq_radius()


# Hash kind -> look-up among the warehouse's media clusters. Both exact kinds share one query.
CLUSTER_LOOKUPS: dict[str, Callable[[duckdb.DuckDBPyConnection, pd.DataFrame], pd.DataFrame]] = {
    "md5+sha1": _exact_cluster_matches,
    "pdq": _pdq_cluster_matches,
}
NOT_YET: dict[str, str] = {}


def read_query_file(con: duckdb.DuckDBPyConnection, path: Path) -> pd.DataFrame:
    """The query file as a frame (query_index from 0, row from 1, md5, sha1, pdq: lower-case hex or None);
    `InputFileError` naming file, row and field for the first bad value; unknown columns refused by name."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    header = read_bank_header(path)
    check_header(path, header, HASH_COLUMNS, need_category=False)
    stage_text(con, path, header, "stg_bank", (*HASH_COLUMNS, "category"))
    try:
        problem = first_problem(con, header, categories=(), category_required=False)
        if problem:
            raise InputFileError(path, f"{problem[2]}; nothing matched", row=problem[0], field=problem[1])
        frame = con.execute("SELECT _row AS row, md5, sha1, pdq FROM stg_bank ORDER BY _row").df()
    finally:
        con.execute("DROP TABLE IF EXISTS stg_bank")
    frame.insert(0, "query_index", range(len(frame)))
    return frame.astype({"md5": object, "sha1": object, "pdq": object}).where(frame.notna(), None)


def match_file(con: duckdb.DuckDBPyConnection, path: Path, matcher: BankMatcher | None = None) -> dict:
    """Look every row of `path` up: {'queries': frame, 'bank_matches': frame (BankMatcher.match),
    'cluster_matches': frame (CLUSTER_COLUMNS + distance), 'lookups': made, 'not_made': {kind: why}}."""
    queries = read_query_file(con, path)
    matcher = matcher or BankMatcher.from_warehouse(con)
    present = [c for c in HASH_COLUMNS if queries[c].notna().any()]
    banks = matcher.match(**{c: queries[c].to_numpy(object) for c in present})
    made = [f"banks:{c}" for c in present]
    clusters = []
    for kinds, lookup in CLUSTER_LOOKUPS.items():
        wanted = [k for k in kinds.split("+") if k in present]
        if wanted:
            clusters.append(lookup(con, queries))
            made += [f"clusters:{k}" for k in wanted]
    cluster_matches = (
        pd.concat(clusters, ignore_index=True) if clusters else pd.DataFrame(columns=[*CLUSTER_COLUMNS, "distance"])
    )
    not_made = {f"clusters:{k}": why for k, why in NOT_YET.items() if k in present and k not in CLUSTER_LOOKUPS}
    return {"queries": queries, "bank_matches": banks, "cluster_matches": cluster_matches, "lookups": made,
            "not_made": not_made, "banks": matcher.bank_names}  # fmt: skip
