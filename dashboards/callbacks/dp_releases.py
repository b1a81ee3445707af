"""The Operations page's section on a hub warehouse: the differentially private releases it merged.

One row per release (agency × month) from `dp_release` (`federation/hub_warehouse.py`): ε, k, cells and
suppressed cells, the sum of the noisy counts shown, the file's checksum (shortened) and when the hub received
it — the lineage of every figure on a hub. Releases mix the agencies of several countries, so only users
whose scope is EU-wide see them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from grace.scope import Scope
from warehouse import WarehouseReader

LIMIT = 60  # releases listed (a year of five agencies)
COLUMNS = (
    ("agency", "Agency"),
    ("month", "Month"),
    ("epsilon", "ε"),
    ("k", "k"),
    ("cells", "Cells"),
    ("suppressed", "Suppressed"),
    ("referrals", "Shown total (noisy)"),
    ("checksum", "Checksum"),
    ("received", "Received (UTC)"),
)


@dataclass(frozen=True)
class ReleasesView:
    summary: str  # one line, or why there is nothing to show
    rows: list[dict]


def releases_view(reader: WarehouseReader, scope: Scope) -> ReleasesView:
    """The merged releases for an EU-wide user (named query `operations_dp_releases`)."""
    if not scope.eu_wide:
        return ReleasesView("Releases mix agencies of several countries: not shown in your scope.", [])
    releases = reader.run("operations_dp_releases", limit=LIMIT)
    if releases.empty:
        return ReleasesView("No differentially private release merged here (`grace federation hub merge`).", [])
    rows = [
        {
            "agency": row.agency_code,
            "month": row.month,
            "epsilon": f"{row.epsilon:g}",
            "k": int(row.k),
            "cells": int(row.cells),
            "suppressed": int(row.suppressed_cells),
            "referrals": f"{int(row.referrals):,}",
            "checksum": str(row.checksum)[:19] + "…",
            "received": pd.Timestamp(row.received_at).strftime("%Y-%m-%d %H:%M"),
        }
        for row in releases.itertuples(index=False)
    ]
    shown = f"the latest {LIMIT}" if len(rows) == LIMIT else f"{len(rows)}"
    return ReleasesView(f"Differentially private releases merged into this hub warehouse ({shown}).", rows)
