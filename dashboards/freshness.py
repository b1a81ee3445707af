"""The data-freshness line every page header and every export marking shows.

On a hub warehouse of merged differentially private releases (`federation/hub_warehouse.py`) the line is the
marking of noisy figures instead: ε and k of the releases, the cells the agencies suppressed (left out of
every total), how many releases from how many agencies, the months and the latest merge.
Every page's header, every export (image and CSV) and every report carries it, so a figure from the EU view
cannot be mistaken for an exact count.
"""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd

from warehouse import WarehouseReader


def freshness_text(frame: pd.DataFrame, releases: pd.DataFrame | None = None) -> str:
    """'Incidents up to 30 Jun 2024 · last ETL batch finished 01 Jul 2024 03:12 UTC (12 batches loaded).';
    on a warehouse holding DP releases (`releases`: named query `dp_release_summary`), `release_text`."""
    if has_releases(releases):
        return release_text(releases)
    row = frame.iloc[0] if not frame.empty else None
    if row is None or pd.isna(row["latest_incident_date"]):
        return "No referrals loaded yet."
    latest = pd.Timestamp(row["latest_incident_date"]).strftime("%d %b %Y")
    text = f"Incidents up to {latest}"
    if pd.isna(row["latest_batch_finished_at"]):
        return f"{text} · no ETL batch recorded."
    batch = pd.Timestamp(row["latest_batch_finished_at"]).strftime("%d %b %Y %H:%M")
    count = int(row["batch_count"])
    return f"{text} · last ETL batch finished {batch} UTC ({count:,} batch{'es' if count != 1 else ''} loaded)."


class _Runner(Protocol):
    def run(self, name: str, **params: Any) -> pd.DataFrame: ...
    def value(self, name: str, **params: Any) -> Any: ...


def release_summary(runner: _Runner) -> pd.DataFrame | None:
    """The `dp_release_summary` row of a hub warehouse; None on a warehouse without releases (every
    agency's), found by counting them first. Every chart and page header asks: the count costs ~0.3 ms of
    CPU, the summary's twelve-column frame ~5 ms. `runner` is a `WarehouseReader` or one of its sessions."""
    if not runner.value("dp_release_count"):
        return None
    return runner.run("dp_release_summary")


def has_releases(releases: pd.DataFrame | None) -> bool:
    """True when the summary says the warehouse holds differentially private releases."""
    return releases is not None and not releases.empty and int(releases["releases"].iloc[0] or 0) > 0


def release_text(releases: pd.DataFrame) -> str:
    """'Differentially private counts: ε = 1 per agency-month (δ = 0); noisy cells under k = 10 suppressed by
    the agencies (893 of 936 cells) and left out of every total · 72 releases from 3 agencies,
    Jan 2023 – Dec 2024, last merged 06 Dec 2026 11:37 UTC.'"""
    row = releases.iloc[0]
    epsilon = _range(float(row["epsilon_min"]), float(row["epsilon_max"]), "g")
    k = _range(int(row["k_min"]), int(row["k_max"]), "d")
    count, agencies = int(row["releases"]), int(row["agencies"])
    months = " – ".join(dict.fromkeys(pd.Timestamp(row[c]).strftime("%b %Y") for c in ("first_month", "last_month")))
    merged = pd.Timestamp(row["last_received_at"]).strftime("%d %b %Y %H:%M")
    return (
        f"Differentially private counts: ε = {epsilon} per agency-month (δ = {float(row['delta_max']):g}); "
        f"noisy cells under k = {k} suppressed by the agencies ({int(row['suppressed_cells']):,} of "
        f"{int(row['cells']):,} cells) and left out of every total · {count:,} "
        f"release{'s' if count != 1 else ''} from {agencies} agenc{'ies' if agencies != 1 else 'y'}, {months}, "
        f"last merged {merged} UTC."
    )


def release_note(releases: pd.DataFrame) -> str:
    """The marking in brief, for a chart's note: 'Differentially private counts (ε = 1 per agency-month);
    cells under k = 10 suppressed by the agencies are left out of the totals.'"""
    row = releases.iloc[0]
    epsilon = _range(float(row["epsilon_min"]), float(row["epsilon_max"]), "g")
    k = _range(int(row["k_min"]), int(row["k_max"]), "d")
    return (
        f"Differentially private counts (ε = {epsilon} per agency-month); cells under k = {k} suppressed by the "
        "agencies are left out of the totals."
    )


def _range(low: float, high: float, spec: str) -> str:
    return f"{low:{spec}}" if low == high else f"{low:{spec}} to {high:{spec}}"


def data_freshness(reader: WarehouseReader) -> str:
    """The freshness line of a warehouse (named query `data_freshness`, and `release_summary`)."""
    with reader.session() as session:
        return freshness_text(session.run("data_freshness"), release_summary(session))
