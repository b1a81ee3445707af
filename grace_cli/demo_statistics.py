"""The demo's published statistics: a small synthetic file, so the strategic report has something to compare.

`data_contracts/examples/published_statistics_demo.csv` holds yearly `cybertipline_reports` (2023-2025) and
`iwf_reports` (2024-2025) for the EU-27 countries, every row's source "Synthetic example (not real data)":
invented figures, sized from the demo warehouse at its default scale, 0.015 (about 1.6 reports per referral
before 2024 and 1.05 from 2024, when bundling lowers the count; IWF-style figures about a tenth), never real NCMEC
or IWF numbers. It is imported exactly as `grace import statistics FILE` would, validated against its contract.
"""

from __future__ import annotations

import duckdb

from etl.statistics import StatisticsImport, import_statistics
from grace.config import CONTRACTS_DIR

DEMO_STATISTICS = CONTRACTS_DIR / "examples" / "published_statistics_demo.csv"


def import_demo_statistics(con: duckdb.DuckDBPyConnection) -> StatisticsImport:
    """Import the demo's synthetic published statistics into the warehouse `con` (idempotent)."""
    return import_statistics(con, DEMO_STATISTICS)
