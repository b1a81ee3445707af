"""At the hub: the agencies' differentially private monthly releases merged into one EU warehouse.

`merge_releases(files, warehouse)` checks every file first (`federation/release_file.py`: a bad one is
refused, naming the file and field, before the warehouse is opened), then writes in **one transaction**:
each new release's cells (`dp_release_cell`, suppressed cells kept as NULL) and lineage row (`dp_release`:
agency, month, ε, δ, k, cell counts, checksum, source, received time), and rebuilds from all the cells the
tables the dashboard and `grace analyse` read — `rollup_referral_daily` (each month's noisy counts dated on
its first day; suppressed cells add nothing and are never a zero), `dim_platform`, `dim_agency`, `dim_date`
— and marks the warehouse monthly (`warehouse/grain.py`: `data_grain` = 'month', `covered_until`).

- The same file merged again changes nothing (its agency-month is held with the same checksum).
- A second release of an agency-month with other numbers is refused: the noise is drawn once per month, and
  two draws of the same counts could be averaged to remove it.
- A hub warehouse holds releases only: a warehouse with ETL batches (an agency's) is refused, and the ETL
  refuses a monthly warehouse (`etl/pipeline.py`).
- Any failure rolls the transaction back: the warehouse is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from federation.release_file import ReleaseFile, ReleaseFileError, read_release
from grace.errors import WarehouseError
from warehouse import connect, ensure_schema, read_sql
from warehouse.period_rollups import refresh_period_rollups

REBUILD = (
    "federation/hub_clear_rollup.sql",
    "federation/hub_rebuild_rollup.sql",
    "federation/hub_platforms.sql",
    "federation/hub_agencies.sql",
    "federation/hub_dates.sql",
    "federation/hub_mark_monthly.sql",
)


@dataclass
class MergeSummary:
    """What a merge did: releases added, and releases already held (the same file again)."""

    merged: list[ReleaseFile] = field(default_factory=list)
    unchanged: list[ReleaseFile] = field(default_factory=list)


def merge_releases(paths: Sequence[Path], warehouse: Path, now: datetime | None = None) -> MergeSummary:
    """Merge release files into the hub warehouse `warehouse` (created if missing); all or nothing."""
    if not paths:
        raise ReleaseFileError("(no file)", "files", "give at least one release file")
    releases = _distinct([read_release(Path(path)) for path in paths])
    received = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    con = connect(warehouse)
    try:
        ensure_schema(con)
        batches = con.execute("SELECT count(*) FROM etl_batch").fetchone()
        if batches and batches[0]:
            raise WarehouseError(
                f"{warehouse}: holds {batches[0]} ETL batches (an agency's warehouse); a hub warehouse holds merged "
                "releases only: merge into a new file"
            )
        held = {
            (row[0], row[1]): (row[2], row[3])
            for row in con.execute(read_sql("federation/hub_merged_releases.sql")).fetchall()
        }
        summary = MergeSummary()
        for release in releases:
            before = held.get((release.agency, release.month))
            if before is None:
                summary.merged.append(release)
            elif before[0] == release.checksum:
                summary.unchanged.append(release)
            else:
                raise ReleaseFileError(
                    release.path,
                    "checksum",
                    f"{release.agency} {release.month} is already merged with other numbers (from {before[1]}); "
                    "noise is drawn once per agency-month, so a second release is refused",
                )
        if summary.merged:
            _write(con, summary.merged, received)
        return summary
    finally:
        con.close()


def _distinct(releases: list[ReleaseFile]) -> list[ReleaseFile]:
    """One release per agency-month among the files given (the same file twice counts once)."""
    seen: dict[tuple[str, str], ReleaseFile] = {}
    for release in releases:
        first = seen.setdefault((release.agency, release.month), release)
        if first.checksum != release.checksum:
            raise ReleaseFileError(
                release.path,
                "checksum",
                f"a second release of {release.agency} {release.month} with other numbers than {first.path}; "
                "noise is drawn once per agency-month",
            )
    return list(seen.values())


def _write(con, releases: list[ReleaseFile], received: datetime) -> None:
    """Cells and lineage of the new releases, then the rebuilt rollup and dimensions: one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for release in releases:
            month = date.fromisoformat(f"{release.month}-01")
            bound = {"agency": release.agency, "month": month}
            con.register("incoming_cells", release.cells)
            try:
                con.execute(read_sql("federation/hub_insert_cells.sql"), bound)
            finally:
                con.unregister("incoming_cells")
            shown = release.cells[~release.cells["suppressed"]]
            con.execute(
                read_sql("federation/hub_insert_release.sql"),
                {
                    **bound,
                    "epsilon": release.epsilon,
                    "delta": release.delta,
                    "k": release.k,
                    "mechanism": release.mechanism,
                    "cells": len(release.cells),
                    "suppressed_cells": int(release.cells["suppressed"].sum()),
                    "referrals": int(shown["referrals"].sum()),
                    "checksum": release.checksum,
                    "source_path": str(release.path),
                    "received_at": received,
                },
            )
        for step in REBUILD:
            con.execute(read_sql(step))
        refresh_period_rollups(con, None)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
