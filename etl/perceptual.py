"""Perceptual clusters: media clusters whose PDQ hashes are near-duplicates join one cluster.

Runs inside a batch's transaction (`etl/pipeline.py`, stage `match`), after the batch's media clusters
are loaded. Every media cluster without a perceptual cluster — the batch's new ones, or after a schema
upgrade or `grace matching rebuild` every one — is placed:

1. its PDQ, unless missing or of quality below the cutoff, is looked up at radius T among all earlier
   PDQs (`matching.cluster_index`) and the other pending ones, in one search of the index with the pending
   hashes staged on top (`ClusterIndex.staged`); every distance is exact;
2. the links form a graph whose connected components (union-find) are the new perceptual clusters: a
   component that reaches existing perceptual clusters keeps the id of the oldest of them (by first
   sighting, then id) and the others merge into it (`perceptual_merge` keeps the history); a component
   of new clusters only takes the id of its oldest member;
3. `perceptual_member` gets a row per pending cluster (indexed ones get the next slots, in
   (first-seen date, cluster id) order), `perceptual_cluster` is recomputed for every perceptual
   cluster that was created, grew, merged or had a member's first sighting moved (by an ETL batch from
   those clusters' rows before it and what it changed, sql/etl/perceptual_refresh_batch.sql; by a rebuild
   from every member).

The index itself is only told after the commit (`PerceptualBatch.commit_to`), so a rolled-back batch
leaves it as it was. The radius and quality cutoff a warehouse was clustered with are stored in
`warehouse_meta`; another setting is refused until `grace matching rebuild`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from grace.errors import GraceError
from grace.progress import ProgressCallback, no_progress
from matching.cluster_index import ClusterIndex, StagedRows, index_directory
from matching.index import Matches, PdqIndex
from matching.pdq import parse_hex
from warehouse import read_sql
from warehouse.period_rollups import PERIOD_ROLLUPS, refresh_period_rollups

META_RADIUS, META_QUALITY = "pdq_radius", "pdq_min_quality"


class MatchingSettingsChanged(GraceError):
    """The warehouse was clustered with another PDQ radius or quality cutoff than the one set now."""


@dataclass(frozen=True)
class MatchingParams:
    """Radius T (bits) that links near-duplicates, and the quality below which a PDQ is never matched."""

    radius: int = 31
    min_quality: int = 50


@dataclass
class PerceptualBatch:
    """What one batch did to the perceptual clusters, and the hashes to index once it commits."""

    pending: int = 0
    indexed: int = 0
    low_quality: int = 0
    linked: int = 0
    merges: int = 0
    first_slot: int = 0
    words: np.ndarray = field(default_factory=lambda: np.empty((0, 4), dtype=np.uint64))
    staged: StagedRows | None = None  # the index with `words` staged, searched before the commit

    def commit_to(self, index: ClusterIndex) -> None:
        """After the batch's commit: make its hashes searchable (memory) and durable (journal)."""
        if self.staged is not None:
            index.adopt(self.staged)
        else:
            index.added(self.first_slot, self.words)

    def as_dict(self) -> dict:
        return {
            "pending": self.pending,
            "indexed": self.indexed,
            "low_quality": self.low_quality,
            "linked": self.linked,
            "merges": self.merges,
        }


def check_settings(con: duckdb.DuckDBPyConnection, params: MatchingParams) -> None:
    """Refuse to cluster with another radius or cutoff than the warehouse was clustered with."""
    stored = dict(
        con.execute(
            "SELECT key, value FROM warehouse_meta WHERE key IN ($r, $q)", {"r": META_RADIUS, "q": META_QUALITY}
        ).fetchall()
    )
    wanted = {META_RADIUS: str(params.radius), META_QUALITY: str(params.min_quality)}
    clustered = con.execute("SELECT count(*) FROM perceptual_member").fetchone()
    if stored and clustered and clustered[0] and stored != wanted:
        raise MatchingSettingsChanged(
            f"the warehouse's perceptual clusters were made with radius {stored.get(META_RADIUS)} and quality "
            f"cutoff {stored.get(META_QUALITY)}; now set: radius {params.radius}, cutoff {params.min_quality}. "
            "Set them back (GRACE_PDQ_RADIUS, GRACE_PDQ_MIN_QUALITY) or re-cluster: grace matching rebuild"
        )


def cluster_pending(
    con: duckdb.DuckDBPyConnection,
    index: ClusterIndex,
    batch_id: str,
    params: MatchingParams,
    *,
    in_batch: bool,
    progress: ProgressCallback = no_progress,
) -> PerceptualBatch:
    """Place every media cluster without a perceptual cluster (see the module docstring).

    `in_batch`: the batch's temp tables (`batch_clustered`, `batch_cluster_stats`, `moved_first`) exist;
    the batch's new clusters are then read from them, with the older clusters it brings a first usable
    PDQ for (reopened: always alone in their perceptual cluster, as nothing links to an unindexed hash) —
    unless the warehouse has older unplaced media clusters too, when every unplaced one is read from the
    warehouse.
    """
    check_settings(con, params)
    _store_settings(con, params)
    if index.radius != params.radius:
        raise MatchingSettingsChanged(f"index radius {index.radius} differs from the radius set, {params.radius}")
    # The perceptual clusters this call recomputes, as they were (`_pending`, `_write`): what the ETL's
    # rollup compares with to find the first sightings that changed (`refresh_rollup`).
    con.execute("CREATE OR REPLACE TEMP TABLE previous_perceptual AS SELECT * FROM perceptual_cluster WHERE false")
    pending = _pending(con, in_batch, params)
    result = PerceptualBatch(pending=len(pending), first_slot=len(index))
    usable = pending["pdq"].notna() & (pending["pdq_quality"].isna() | (pending["pdq_quality"] >= params.min_quality))
    result.low_quality = int((pending["pdq"].notna() & ~usable).sum())
    positions = np.flatnonzero(usable.to_numpy())
    words = parse_hex(pending["pdq"].to_numpy()[positions].tolist()) if len(positions) else result.words
    result.indexed, result.words = len(positions), words

    progress("Matching PDQ hashes", 0, 1)
    result.staged = _stage(index, words)
    earlier, among = _split(_search(result.staged, words), result.first_slot)
    progress("Matching PDQ hashes", 1, 1)

    owners = _slot_owners(con, earlier.id)
    assignment, merges, nearest = _components(pending, positions, earlier, among, owners)
    result.linked = int(np.isfinite(nearest).sum())
    result.merges = len(merges)
    _write(con, pending, positions, assignment, merges, nearest, result.first_slot, batch_id, in_batch)
    return result


def _pending(con: duckdb.DuckDBPyConnection, in_batch: bool, params: MatchingParams) -> pd.DataFrame:
    """The clusters to place, in (first-seen date, cluster id) order, ids as fixed-width hex keys ('0x' + 32
    digits: they sort like the numbers and cast back; decimal text of a 128-bit integer is slow to make)."""
    if in_batch:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE perceptual_reopened AS " + read_sql("etl/perceptual_reopen.sql"),
            {"min_quality": params.min_quality},
        )
        con.execute(
            "INSERT INTO previous_perceptual SELECT * FROM perceptual_cluster "
            "WHERE perceptual_id IN (SELECT cluster_id FROM perceptual_reopened)"
        )
        con.execute(read_sql("etl/perceptual_reopen_apply.sql"))
        counts = con.execute(
            "SELECT (SELECT count(*) FROM media_cluster), (SELECT count(*) FROM perceptual_member), "
            "(SELECT count(*) FROM batch_cluster_stats WHERE is_new_cluster), (SELECT count(*) FROM perceptual_reopened)"
        ).fetchone()
        if counts is not None and counts[0] == counts[1] + counts[2] + counts[3]:
            return con.execute(read_sql("etl/perceptual_pending_batch.sql")).df()
    con.execute("CREATE TEMP TABLE IF NOT EXISTS previous_quality (cluster_id UHUGEINT, pdq_quality SMALLINT)")
    return con.execute(read_sql("etl/perceptual_pending_backlog.sql")).df()


def _stage(index: ClusterIndex, words: np.ndarray) -> StagedRows:
    """The index with the pending hashes added at the next slots (the committed index is unchanged)."""
    return index.staged(words)


def _search(staged: StagedRows, words: np.ndarray) -> Matches:
    """Every earlier or pending hash within the radius of each pending hash, in one pass over the index."""
    return staged.search(words)


def _split(found: Matches, first_slot: int) -> tuple[Matches, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The matches among the earlier hashes (ids = slots) and the pairs of pending hashes within the radius
    (positions, each pair once each way, no self-pairs); both keep the search's order."""
    earlier = found.id < first_slot
    own = ~earlier & (found.id - first_slot != found.query_index)
    return (
        Matches(found.query_index[earlier], found.id[earlier], found.distance[earlier]),
        (found.query_index[own], found.id[own] - first_slot, found.distance[own]),
    )


def _slot_owners(con: duckdb.DuckDBPyConnection, slots: np.ndarray) -> pd.DataFrame:
    """slot → (perceptual_key, first_seen_date) for the slots the search returned."""
    unique = np.unique(slots)
    con.register("matched_slots", pd.DataFrame({"slot": unique}))
    try:
        return con.execute(read_sql("etl/perceptual_slot_owners.sql")).df()
    finally:
        con.unregister("matched_slots")


def _components(pending: pd.DataFrame, positions: np.ndarray, earlier, among, owners: pd.DataFrame):
    """Union-find over pending clusters and the existing perceptual clusters they reach.

    Returns (perceptual key per pending cluster, merges frame (merged_key, into_key), nearest distance
    per pending cluster, inf when it matched nothing).
    """
    n = len(pending)
    existing = owners["perceptual_key"].drop_duplicates().sort_values().to_numpy()
    rows, cols = [np.arange(n)], [np.arange(n)]
    nearest = np.full(n, np.inf)
    if earlier is not None and len(earlier.id):
        query = positions[earlier.query_index]
        rows.append(query)
        cols.append(n + np.searchsorted(existing, _owner_of(owners, earlier.id)))
        np.minimum.at(nearest, query, earlier.distance.astype(float))
    if among is not None and len(among[0]):
        query, other, distance = positions[among[0]], positions[among[1]], among[2]
        rows.append(query)
        cols.append(other)
        np.minimum.at(nearest, query, distance.astype(float))
    size = n + len(existing)
    edges = coo_matrix(
        (np.ones(sum(len(r) for r in rows), dtype=np.int8), (np.concatenate(rows), np.concatenate(cols))),
        shape=(size, size),
    )
    _, label = connected_components(edges, directed=False)

    first_seen = owners.drop_duplicates("perceptual_key").set_index("perceptual_key")["first_seen_date"]
    nodes = pd.DataFrame(
        {
            "component": label,
            "is_new": np.r_[np.ones(n, dtype=bool), np.zeros(len(existing), dtype=bool)],
            "first_seen_date": pd.to_datetime(
                np.r_[pending["first_seen_date"].to_numpy(), first_seen.reindex(existing).to_numpy()]
            ),
            "key": np.r_[pending["cluster_key"].to_numpy(), existing],
        }
    )
    # The survivor of a component: an existing perceptual cluster if it reaches any (oldest first), else
    # its oldest new member.
    survivor = (
        nodes.sort_values(["component", "is_new", "first_seen_date", "key"], kind="mergesort")
        .drop_duplicates("component")
        .set_index("component")["key"]
    )
    into = survivor.reindex(nodes["component"]).to_numpy()
    assignment = into[:n]
    old = nodes.iloc[n:]
    merged = old["key"].to_numpy() != into[n:]
    merges = pd.DataFrame({"merged_key": old["key"].to_numpy()[merged], "into_key": into[n:][merged]})
    return assignment, merges.sort_values(["into_key", "merged_key"]).reset_index(drop=True), nearest


def _owner_of(owners: pd.DataFrame, slots: np.ndarray) -> np.ndarray:
    """The perceptual key owning each of `slots` (every one of them is in `owners`)."""
    by_slot = owners.sort_values("slot")
    known = by_slot["slot"].to_numpy()
    at = np.searchsorted(known, slots)
    if len(slots) and (at.max() >= len(known) or not np.array_equal(known[at], slots)):
        raise GraceError("perceptual_member: a matched PDQ slot has no owner")
    return by_slot["perceptual_key"].to_numpy()[at]


def _write(con, pending, positions, assignment, merges, nearest, first_slot, batch_id, in_batch) -> None:
    """Merges, member rows, the recomputed perceptual clusters; all in the caller's transaction."""
    slots = np.full(len(pending), -1, dtype=np.int64)
    slots[positions] = first_slot + np.arange(len(positions))
    members = pd.DataFrame(
        {
            "cluster_key": pending["cluster_key"].to_numpy(),
            "perceptual_key": assignment,
            "pdq_slot": _nullable(slots, slots >= 0, "Int64"),
            "pdq_quality": pd.Series(pending["pdq_quality"].to_numpy(), dtype="Int16"),
            "nearest_distance": _nullable(nearest, np.isfinite(nearest), "Int16"),
        }
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    con.register("new_members", members)
    con.register("new_merges", merges)
    try:
        con.execute(read_sql("etl/perceptual_record_merges.sql"), {"batch_id": batch_id, "now": now})
        con.execute(read_sql("etl/perceptual_apply_merges.sql"))
        if in_batch:  # the merged clusters' rows, which the batch's refresh starts from
            con.execute(
                "CREATE OR REPLACE TEMP TABLE merged_perceptual AS SELECT * FROM perceptual_cluster "
                "WHERE perceptual_id IN (SELECT CAST(merged_key AS UHUGEINT) FROM new_merges)"
            )
        con.execute(
            "DELETE FROM perceptual_cluster WHERE perceptual_id IN (SELECT CAST(merged_key AS UHUGEINT) FROM new_merges)"
        )
        con.execute(read_sql("etl/perceptual_insert_members.sql"), {"batch_id": batch_id})
        con.execute("CREATE OR REPLACE TEMP TABLE affected_perceptual AS " + read_sql("etl/perceptual_affected.sql"))
        if in_batch:
            con.execute("CREATE OR REPLACE TEMP TABLE moved_members AS " + read_sql("etl/perceptual_moved_members.sql"))
            con.execute(read_sql("etl/perceptual_affected_moved.sql"))
    finally:
        con.unregister("new_members")
        con.unregister("new_merges")
    # The affected rows are read once, with their row ids, and deleted by row id: a delete by row id reads no
    # column of perceptual_cluster (one by perceptual_id read all of its ids a second time).
    con.execute("CREATE OR REPLACE TEMP TABLE affected_rows AS " + read_sql("etl/perceptual_affected_rows.sql"))
    con.execute(
        "INSERT INTO previous_perceptual SELECT * EXCLUDE (row_id) FROM affected_rows "
        "WHERE perceptual_id NOT IN (SELECT perceptual_id FROM previous_perceptual)"
    )
    con.execute("DELETE FROM perceptual_cluster WHERE rowid IN (SELECT row_id FROM affected_rows)")
    con.execute("DROP TABLE affected_rows")
    refresh = "etl/perceptual_refresh_batch.sql" if in_batch else "etl/perceptual_refresh_clusters.sql"
    con.execute("INSERT INTO perceptual_cluster BY NAME " + read_sql(refresh), {"batch_id": batch_id})


def refresh_rollup(con: duckdb.DuckDBPyConnection, with_batch_dates: bool, batch_id: str | None = None) -> None:
    """Recompute `rollup_perceptual_daily` for every date of the perceptual clusters in `affected_perceptual`
    and, with `with_batch_dates`, the batch's `affected_dates`; and the weeks and months holding them in
    its weekly and monthly copies.

    With `batch_id` (the ETL's batch, after `cluster_pending` in it, with `affected_dates`) the batch's dates
    are recomputed whole and, on other dates, only the cells (day, country, platform, category) holding a
    file whose rollup inputs the batch changed (`sql/etl/perceptual_changed_cells.sql`): the rows are the
    same, but the files of the members of a perceptual cluster that merely grew — by the fourth quarterly
    batch on every date of the year — are no longer counted again."""
    if batch_id is None:
        con.execute("CREATE OR REPLACE TEMP TABLE perceptual_dates AS " + read_sql("etl/perceptual_affected_dates.sql"))
        if with_batch_dates:
            con.execute(
                "INSERT INTO perceptual_dates SELECT date_key FROM affected_dates "
                "WHERE date_key NOT IN (SELECT date_key FROM perceptual_dates)"
            )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE perceptual_dates AS SELECT date_key FROM affected_dates")
    con.execute("DELETE FROM rollup_perceptual_daily WHERE date_key IN (SELECT date_key FROM perceptual_dates)")
    con.execute("INSERT INTO rollup_perceptual_daily BY NAME " + read_sql("etl/rollup_perceptual_daily.sql"))
    if batch_id is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE perceptual_cells AS " + read_sql("etl/perceptual_changed_cells.sql"),
            {"batch_id": batch_id},
        )
        con.execute(
            "DELETE FROM rollup_perceptual_daily AS r USING perceptual_cells AS c "
            "WHERE r.date_key = c.date_key AND r.country_iso3 = c.country_iso3 "
            "AND r.platform_name = c.platform_name AND r.category_code = c.category_code"
        )
        con.execute("INSERT INTO rollup_perceptual_daily BY NAME " + read_sql("etl/rollup_perceptual_cells.sql"))
        con.execute("INSERT INTO perceptual_dates SELECT DISTINCT date_key FROM perceptual_cells")
    refresh_period_rollups(con, "perceptual_dates", ("rollup_perceptual_daily",))


def rebuild(
    con: duckdb.DuckDBPyConnection, params: MatchingParams, progress: ProgressCallback = no_progress
) -> PerceptualBatch:
    """Re-cluster every media cluster with `params`, in one transaction (`grace matching rebuild`).

    The perceptual tables, their merge history and rollup are replaced; the index beside the warehouse
    is removed before the commit (so a failure leaves a warehouse whose index is rebuilt on next open)
    and written afresh after it. Returns what was placed.
    """
    directory = index_directory(con)
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    index = ClusterIndex(PdqIndex(params.radius), directory)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE previous_quality AS SELECT cluster_id, pdq_quality FROM perceptual_member"
        )
        for table in (
            "perceptual_member",
            "perceptual_cluster",
            "perceptual_merge",
            "rollup_perceptual_daily",
            *PERIOD_ROLLUPS["rollup_perceptual_daily"][1].values(),
        ):
            con.execute(f"DELETE FROM {table}")
        result = cluster_pending(con, index, f"rebuild-{started}", params, in_batch=False, progress=progress)
        refresh_rollup(con, with_batch_dates=False)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for temp in ("affected_perceptual", "perceptual_dates", "previous_quality", "previous_perceptual"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    result.commit_to(index)
    index.compact(force=True)
    return result


def status(con: duckdb.DuckDBPyConnection) -> dict:
    """What the warehouse's perceptual matching holds (`grace matching status`)."""
    counts = con.execute(read_sql("etl/perceptual_status.sql")).fetchone() or ()
    names = ("media_clusters", "placed", "indexed", "perceptual_clusters", "multi_variant_clusters", "merges")
    meta = dict(
        con.execute(
            "SELECT key, value FROM warehouse_meta WHERE key IN ($r, $q)", {"r": META_RADIUS, "q": META_QUALITY}
        ).fetchall()
    )
    directory = index_directory(con)
    return {
        **{name: int(value or 0) for name, value in zip(names, counts, strict=True)},
        "radius": int(meta[META_RADIUS]) if META_RADIUS in meta else None,
        "min_quality": int(meta[META_QUALITY]) if META_QUALITY in meta else None,
        "index_directory": str(directory) if directory else None,
    }


def _nullable(values: np.ndarray, valid: np.ndarray, dtype: str) -> pd.Series:
    """`values` as a nullable integer column, missing where not `valid`."""
    return pd.Series(np.where(valid, values, 0), dtype=dtype).mask(~valid)


def _store_settings(con: duckdb.DuckDBPyConnection, params: MatchingParams) -> None:
    for key, value in ((META_RADIUS, params.radius), (META_QUALITY, params.min_quality)):
        con.execute("DELETE FROM warehouse_meta WHERE key = ?", [key])
        con.execute("INSERT INTO warehouse_meta (key, value) VALUES (?, ?)", [key, str(value)])
