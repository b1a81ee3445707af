"""Each agency's differentially private counts (country × platform × month), under a budget it keeps itself.

A release is one month of one agency's referrals per country and platform, over a public domain (the
agency's countries × the platforms named by the hub), so which cells exist reveals nothing. Every referral
falls in exactly one cell, so adding or removing one referral changes the vector of counts by 1 in L1
norm, and OpenDP's Laplace mechanism of scale 1/ε makes the release ε-differentially private for each
referral (δ = 0). Then, as post-processing that costs no privacy, noisy counts are rounded at zero and
cells below the small-cell threshold k are suppressed.

The **budget ledger** (`BudgetLedger`, an SQLite file the agency keeps) records every release with its ε
and refuses one that would take the agency past its budget. Asking again for a month already released
returns the stored release and spends nothing: noise is drawn once per month, so repeating a request can
never average the noise away. The noise is OpenDP's, from a cryptographic source: it cannot be seeded (a
reproducible noise would be a known noise).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import opendp.prelude as dp
import pandas as pd

from grace.disclosure import min_cell
from grace.errors import GraceError
from warehouse import connect, read_sql

dp.enable_features("contrib")

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS dp_release (
    month TEXT PRIMARY KEY,
    epsilon REAL NOT NULL,
    released_at TEXT NOT NULL,
    cells TEXT NOT NULL
);
"""


class BudgetExceeded(GraceError):
    """A release that would spend more privacy budget than the agency has left."""


@dataclass(frozen=True)
class Release:
    """One agency's noisy counts for one month: `cells` has country_iso3, platform_name, referrals (noisy,
    None where suppressed) and suppressed."""

    agency: str
    month: str  # YYYY-MM
    epsilon: float
    k: int
    cells: pd.DataFrame
    spent_now: bool  # False: the stored release of a month already released


def month_bounds(month: str) -> tuple[date, date]:
    start = date.fromisoformat(f"{month}-01")
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def true_counts(warehouse: Path, month: str, countries: Sequence[str], platforms: Sequence[str]) -> pd.DataFrame:
    """The month's referral counts over the whole domain (zero where nothing was received)."""
    start, end = month_bounds(month)
    con = connect(warehouse, read_only=True)
    try:
        counts = con.execute(read_sql("federation/monthly_counts.sql"), {"month_start": start, "month_end": end}).df()
    finally:
        con.close()
    domain = pd.MultiIndex.from_product([sorted(countries), sorted(platforms)], names=["country_iso3", "platform_name"])
    inside = counts.set_index(["country_iso3", "platform_name"])["referrals"]
    outside = inside[~inside.index.isin(domain)]
    if len(outside):
        raise GraceError(
            f"{warehouse}: {int(outside.sum())} referrals of {month} fall outside the release domain "
            f"({len(outside)} country × platform cells); add their platforms to the domain"
        )
    return inside.reindex(domain, fill_value=0).astype("int64").reset_index()


def laplace_counts(counts: Sequence[int], epsilon: float) -> list[int]:
    """ε-DP noisy counts (discrete Laplace of scale 1/ε; L1 sensitivity 1), via OpenDP."""
    mechanism = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=1.0 / epsilon)
    if mechanism.map(1) > epsilon + 1e-9:
        raise AssertionError(f"the mechanism spends {mechanism.map(1)} > ε = {epsilon}")
    return list(mechanism([int(value) for value in counts]))


class BudgetLedger:
    """An agency's privacy budget and its releases (see the module docstring)."""

    def __init__(self, path: Path, budget: float):
        if budget <= 0:
            raise ValueError(f"a privacy budget must be positive, got {budget}")
        self.path = path
        self.budget = budget
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as con, con:
            con.executescript(LEDGER_SCHEMA)

    def spent(self) -> float:
        with closing(sqlite3.connect(self.path)) as con:
            return float(con.execute("SELECT coalesce(sum(epsilon), 0) FROM dp_release").fetchone()[0])

    def release(
        self,
        agency: str,
        warehouse: Path,
        month: str,
        epsilon: float,
        countries: Sequence[str],
        platforms: Sequence[str],
        k: int | None = None,
    ) -> Release:
        """The month's release: the stored one, or a new one if the budget allows (`BudgetExceeded`)."""
        k = min_cell(k)
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as con:
            con.execute("BEGIN IMMEDIATE")  # one release at a time: the budget check and the spend are one step
            try:
                stored = con.execute("SELECT epsilon, cells FROM dp_release WHERE month = ?", (month,)).fetchone()
                if stored is not None:
                    con.execute("ROLLBACK")
                    return Release(
                        agency, month, float(stored[0]), k, _suppressed(pd.DataFrame(json.loads(stored[1])), k), False
                    )
                spent = float(con.execute("SELECT coalesce(sum(epsilon), 0) FROM dp_release").fetchone()[0])
                if spent + epsilon > self.budget + 1e-12:
                    raise BudgetExceeded(
                        f"{agency}: releasing {month} at ε = {epsilon:g} would spend {spent + epsilon:g} of a budget "
                        f"of {self.budget:g} (spent so far: {spent:g}); refused"
                    )
                cells = true_counts(warehouse, month, countries, platforms)
                cells["referrals"] = [max(0, value) for value in laplace_counts(cells["referrals"], epsilon)]
                con.execute(
                    "INSERT INTO dp_release VALUES (?, ?, ?, ?)",
                    (month, epsilon, datetime.now(UTC).isoformat(timespec="seconds"), cells.to_json(orient="records")),
                )
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        return Release(agency, month, epsilon, k, _suppressed(cells, k), True)


def _suppressed(cells: pd.DataFrame, k: int) -> pd.DataFrame:
    """Noisy cells below k suppressed (post-processing: no privacy cost)."""
    shown = cells.copy()
    shown["suppressed"] = shown["referrals"] < k
    shown["referrals"] = shown["referrals"].astype("Int64").mask(shown["suppressed"])
    return shown


MECHANISM = "discrete Laplace (OpenDP), L1 sensitivity 1 per referral"


def release_json(release: Release) -> str:
    """The release as it crosses the border to the hub: the release file (`federation/release_file.py`,
    format grace-dp-release/1) with the cells, ε, δ = 0, k, the mechanism and the content checksum."""
    from federation.release_file import release_document

    document = release_document(release.agency, release.month, release.epsilon, release.k, MECHANISM, release.cells)
    return json.dumps(document, sort_keys=True, indent=1)
