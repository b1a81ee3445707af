"""Report-level tables for the text and the annex: the period's totals per country and its platform mix.

Each table is read for the report's period and scope (named queries on the daily rollups) and passed
through the same small-cell rule as every export (`grace.disclosure.suppress`: counts from 1 to k − 1
hidden, then complementary cells so that the total row cannot give them back; derived shares blanked with
their counts). Hidden cells hold the marker `suppressed`; the total row is the sum of every cell, hidden
ones included, and is itself hidden when it is a small count.

On a hub warehouse of differentially private releases (`reporting/releases.py`) the tables are read from the
release cells of the period (`report_release_period`): referrals only (actionable referrals and files are not
released), the countries and platforms of the release domain only (a member state no agency released for is
not listed, rather than shown as 0), and a row whose every cell the agencies suppressed shows the marker,
never 0; the same small-cell rule then applies on top.
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
    name: str,
    con: duckdb.DuckDBPyConnection,
    period: Period,
    countries: list[str] | None,
    scope_label: str,
    k: int,
    monthly: bool = False,
) -> Table:
    """The table `name` (one of `reporting.definition.TABLES`) for the period and scope (`monthly`: a hub's)."""
    builders = HUB_BUILDERS if monthly else BUILDERS
    return builders[name](con, period, list(countries or []), scope_label, k)


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


def hub_country_totals(
    con: duckdb.DuckDBPyConnection, period: Period, countries: list[str], scope: str, k: int
) -> Table:
    """Referrals per country of the release domain in the period, from the release cells."""
    return _hub_table(
        con, period, countries, scope, k, "country_iso3", f"Referrals per country, {period.label} ({scope})"
    )


def hub_platform_mix(con: duckdb.DuckDBPyConnection, period: Period, countries: list[str], scope: str, k: int) -> Table:
    """Referrals per platform of the release domain in the period and each platform's share of them."""
    return _hub_table(con, period, countries, scope, k, "platform", f"Platform mix, {period.label} ({scope})")


def _hub_table(
    con: duckdb.DuckDBPyConnection, period: Period, countries: list[str], scope: str, k: int, by: str, title: str
) -> Table:
    cells = run_named(con, "report_release_period", countries=countries, start=period.start, end=period.end)
    if cells.empty:
        return Table(title, pd.DataFrame(), f"No differentially private release covers {scope} in {period.label}.")
    grouped = cells.groupby(by, sort=True).agg(referrals=("referrals", "sum"), shown=("referrals", "count"))
    frame = grouped.reset_index()
    frame["referrals"] = frame["referrals"].astype("float64").where(frame["shown"] > 0)  # all suppressed: unknown
    frame = frame.drop(columns="shown")
    if by == "platform":
        frame = frame.sort_values(["referrals", "platform"], ascending=[False, True], na_position="last")
    known = frame[frame["referrals"].notna()].reset_index(drop=True)
    unknown = frame[frame["referrals"].isna()]
    protected = suppress(known.astype({"referrals": "int64"}), ["referrals"], [by], k=k)
    shown = _with_total(protected, ["referrals"], by, k, add_total=False)
    shown = pd.concat([shown, unknown.assign(referrals=MARKER)], ignore_index=True)
    total = int(known["referrals"].sum())
    shown = pd.concat(
        [shown, pd.DataFrame([{by: TOTAL_ROW, "referrals": MARKER if 0 < total < k else total}])], ignore_index=True
    )
    if by == "platform":
        shown["Share of referrals"] = [
            MARKER if value == MARKER else f"{value / total * 100:.1f} %" if total else ""
            for value in shown["referrals"]
        ]
        shown = shown.rename(columns={"platform": "Platform", "referrals": "Referrals"})
    else:
        shown.insert(0, "Country", [_country(code) for code in shown.pop("country_iso3")])
        shown = shown.rename(columns={"referrals": "Referrals"})
    suppressed = int(cells["suppressed_cells"].sum())
    note = (
        f"Differentially private counts; {suppressed:,} of {int(cells['cells'].sum()):,} release cells of the period "
        f"were suppressed by the agencies and are left out of every total ('{MARKER}' where all of a row's were). "
        "Only the member states and platforms of the releases are listed; actionable referrals and files are not "
        f"in the releases. {protected.note}"
    ).strip()
    return Table(title, shown, note)


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
HUB_BUILDERS: dict[str, Callable[..., Table]] = {"country-totals": hub_country_totals, "platform-mix": hub_platform_mix}
