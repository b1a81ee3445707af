"""Report-level tables for the text and the annex: the period's totals per country and its platform mix.

Each table is read for the report's period and scope (named queries on the daily rollups) and passed
through the same small-cell rule as every export (`grace.disclosure.suppress`: counts from 1 to k − 1
hidden, then complementary cells so that the total row cannot give them back; derived shares blanked with
their counts). Hidden cells hold the marker `suppressed`; the total row is the sum of every cell, hidden
ones included, and is itself hidden when it is a small count.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from dashboards.titles import country_name
from grace.disclosure import MARKER, Suppression, suppress
from reporting.model import Table
from reporting.period import Period
from reporting.queries import run_named
from warehouse.reference import EU27_ISO3

TOTAL_ROW = "Total"


def report_table(
    name: str, con: duckdb.DuckDBPyConnection, period: Period, countries: list[str] | None, scope_label: str, k: int
) -> Table:
    """The table `name` (one of `reporting.definition.TABLES`) for the period and scope."""
    return BUILDERS[name](con, period, list(countries or []), scope_label, k)


def country_totals(con: duckdb.DuckDBPyConnection, period: Period, countries: list[str], scope: str, k: int) -> Table:
    """Referrals, actionable referrals and files per country in the period (every country of the scope)."""
    listed = countries or list(EU27_ISO3)  # an EU-wide report lists every member state, with or without data
    frame = run_named(con, "report_period_countries", countries=listed, start=period.start, end=period.end)
    counts = ["referrals", "actionable", "files"]
    protected = suppress(frame, counts, ["country_iso3"], k=k)
    shown = _with_total(protected, counts, "country_iso3", k, add_total=len(frame) > 1)
    shown.insert(0, "Country", [_country(code) for code in shown.pop("country_iso3")])
    shown = shown.rename(columns={"referrals": "Referrals", "actionable": "Actionable referrals", "files": "Files"})
    return Table(f"Referrals per country, {period.label} ({scope})", shown, protected.note)


def platform_mix(con: duckdb.DuckDBPyConnection, period: Period, countries: list[str], scope: str, k: int) -> Table:
    """Referrals per platform in the period and each platform's share of them."""
    frame = run_named(con, "report_period_platforms", countries=countries, start=period.start, end=period.end)
    total = int(frame["referrals"].sum())
    protected = suppress(frame, ["referrals"], ["platform"], k=k)
    shown = _with_total(protected, ["referrals"], "platform", k, add_total=len(frame) > 1)
    shares = []
    for value in shown["referrals"]:
        shares.append(MARKER if value == MARKER else f"{value / total * 100:.1f} %" if total else "")
    shown["Share of referrals"] = shares
    shown = shown.rename(columns={"platform": "Platform", "referrals": "Referrals"})
    note = protected.note if total else f"No referrals for {scope} in {period.label}."
    return Table(f"Platform mix, {period.label} ({scope})", shown, note)


def _with_total(protected: Suppression, counts: list[str], label: str, k: int, add_total: bool) -> pd.DataFrame:
    """The suppressed frame (marker in hidden cells) and, when asked, a total row over every original cell."""
    shown = protected.csv_frame()
    for column in counts:
        shown[column] = shown[column].astype(object)
    if not add_total:
        return shown.reset_index(drop=True)
    total: dict[str, object] = {label: TOTAL_ROW}
    for column in counts:
        value = int(protected.original[column].sum())
        total[column] = MARKER if 0 < value < k else value
    return pd.concat([shown, pd.DataFrame([total], columns=shown.columns)], ignore_index=True)


def _country(code: str) -> str:
    return TOTAL_ROW if code == TOTAL_ROW else f"{country_name(code)} ({code})"


BUILDERS: dict[str, Callable[..., Table]] = {"country-totals": country_totals, "platform-mix": platform_mix}
