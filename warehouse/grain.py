"""What a warehouse's rollups can answer: daily data (an agency's, from the ETL) or monthly data only (a hub's
merged differentially private releases, `federation/hub_warehouse.py`).

A hub warehouse dates each month's noisy counts on the month's first day and records in `warehouse_meta`
`data_grain` = 'month' and `covered_until` (the last day of its latest month). Readers ask here before they
offer or analyse a series: a week or a day of a monthly warehouse would be a fiction (all of a month on its
first day), so finer grains are refused, and only the metrics the releases carry (`released_metrics`) exist.
"""

from __future__ import annotations

import duckdb

from grace.vocabulary import GRAINS
from warehouse.schema import is_initialised

DAILY = "day"
MONTHLY = "month"
# The one measure an agency releases (referrals per country × platform × month) and the metrics derived from it.
RELEASED_METRICS = ("referrals", "platform_share")


def data_grain(con: duckdb.DuckDBPyConnection) -> str:
    """'month' for a warehouse of monthly releases, 'day' otherwise (every ETL-built warehouse)."""
    if not is_initialised(con):
        return DAILY
    found = con.execute("SELECT value FROM warehouse_meta WHERE key = 'data_grain'").fetchall()
    return found[0][0] if found else DAILY


def is_monthly(con: duckdb.DuckDBPyConnection) -> bool:
    """True for a hub warehouse of monthly differentially private releases."""
    return data_grain(con) == MONTHLY


def finer_than(grain: str, floor: str) -> bool:
    """True when `grain` is finer than `floor` ('week' is finer than 'month')."""
    return GRAINS.index(grain) < GRAINS.index(floor)


def grains_within(grains: list[str] | tuple[str, ...], floor: str) -> tuple[list[str], list[str]]:
    """(grains a warehouse of grain `floor` can answer, grains it cannot), order kept."""
    kept = [grain for grain in grains if not finer_than(grain, floor)]
    return kept, [grain for grain in grains if finer_than(grain, floor)]
