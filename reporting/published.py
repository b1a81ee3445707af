"""The comparison with published yearly figures (NCMEC, IWF … as imported by `grace import statistics`).

For the latest complete years (the warehouse holds every day of them) up to the report's period that
have an imported yearly figure for the scope's countries, the warehouse's own referral count for the
scope is put next to each published figure (one per metric code and source), as a table and as
sentences. The EU-27 figure is the sum of the 27 countries' published figures, given only when every
country has one; totals imported without a country (a source's world total) are not compared.

Every number in a sentence is checked by a second, independent path:
- the warehouse's yearly count is written from a per-year query (`report_yearly_referrals`) and
  recomputed as the sum of the daily series (`load_series` at day grain) over the year's days;
- a published figure is written from the comparison's query (`report_published_figures`) and read again
  on its own (`report_published_figure`), summed over the countries for the EU-27;
- GRACE's count as a share of the published figure is recomputed from the two recomputed values.
The warehouse's counts obey the small-cell rule (in the table with complementary suppression within
each year; in a sentence a count from 1 to k − 1 is "not shown"). Published figures are public already,
so only the primary rule applies to them (a published figure from 1 to k − 1 is not printed either, but
no further cell is hidden for it). Nothing imported for the scope: the section says so, with no numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.narrative import format_percent
from analytics.warehouse_series import load_series
from dashboards.titles import country_name
from grace.disclosure import MARKER, suppress
from reporting.definition import PublishedRef
from reporting.model import CheckedNumber, Sentence, Table
from reporting.period import Period
from reporting.queries import run_named
from warehouse.reference import EU27_ISO3

EU_LABEL = "EU-27"
GRACE_COLUMN = "GRACE referrals"
CAVEAT = (
    "Definitions differ, so the figures are compared in scale and direction, not matched: GRACE counts the "
    "distinct referrals that reached the agencies (by incident date); NCMEC counts CyberTipline reports, and "
    "from 2024 bundles duplicate reports of one incident into one; the IWF counts the reports and URLs it "
    "assessed and actioned. Report volume is not prevalence."
)
SOURCE = "report computation: comparison with published figures"


@dataclass(frozen=True)
class PublishedComparison:
    sentences: tuple[Sentence, ...]
    table: Table | None


@dataclass(frozen=True)
class Published:
    """One published figure for the scope: per metric code and source, the scope's value for a year."""

    year: int
    metric: str
    source: str
    value: float | None  # the scope's figure (the EU-27: the countries' sum), None when some country lacks one
    countries: tuple[str, ...]  # the countries that have a figure


def published_comparison(
    con: duckdb.DuckDBPyConnection,
    ref: PublishedRef,
    period: Period,
    scope_countries: Sequence[str] | None,
    scope_label: str,
    k: int,
) -> PublishedComparison:
    """The comparison for the report's scope (`scope_countries` None: the EU-27); see the module docstring."""
    countries = sorted(scope_countries) if scope_countries is not None else list(EU27_ISO3)
    published = run_named(
        con, "report_published_figures", metrics=list(ref.metrics), countries=countries, last_year=period.end.year
    )
    codes = ", ".join(ref.metrics)
    if published.empty:
        return PublishedComparison(
            (
                Sentence(
                    f"No published yearly figures ({codes}) are imported for {scope_label} up to {period.label}: "
                    "import them with `grace import statistics` to compare.",
                    source=SOURCE,
                ),
            ),
            None,
        )
    first_year = int(published["year"].min())
    counts = run_named(
        con, "report_yearly_referrals", countries=countries, first_year=first_year, last_year=period.end.year
    )
    complete = _complete_years(counts)
    years = sorted({int(y) for y in published["year"]} & complete, reverse=True)[: ref.years]
    if not years:
        return PublishedComparison(
            (
                Sentence(
                    f"Published figures ({codes}) are imported for {scope_label}, but not for a year the "
                    f"warehouse holds completely up to {period.label}; nothing to compare.",
                    source=SOURCE,
                ),
            ),
            None,
        )
    counts = counts[counts["year"].isin(years)]
    published = published[published["year"].isin(years)]
    figures = _scope_figures(published, countries)
    daily = load_series(con, "referrals", "day", filters={"country": countries}, drop_partial=False)
    sentences = [_sentence(con, figure, counts, daily, countries, scope_label, k) for figure in figures]
    sentences.append(Sentence(CAVEAT, source=SOURCE))
    table = _table(counts, published, countries, scope_countries is None, k)
    return PublishedComparison(tuple(sentences), table)


def _complete_years(counts: pd.DataFrame) -> set[int]:
    """Years whose every day lies between the warehouse's first and last day of data."""
    if counts.empty or pd.isna(counts["first_day"].iloc[0]):
        return set()
    first, last = pd.Timestamp(counts["first_day"].iloc[0]).date(), pd.Timestamp(counts["last_day"].iloc[0]).date()
    return {int(y) for y in counts["year"] if first <= date(int(y), 1, 1) and last >= date(int(y), 12, 31)}


def _scope_figures(published: pd.DataFrame, countries: list[str]) -> list[Published]:
    """One figure per year, metric and source for the whole scope (latest year first)."""
    out = []
    for (year, metric, source), rows in published.groupby(["year", "metric", "source"], sort=False):
        have = tuple(sorted(rows["country_iso3"]))
        value = float(rows["value"].sum()) if set(have) == set(countries) else None
        out.append(Published(int(year), str(metric), str(source), value, have))
    return sorted(out, key=lambda f: (-f.year, f.metric, f.source))


def _sentence(
    con: duckdb.DuckDBPyConnection,
    figure: Published,
    counts: pd.DataFrame,
    daily: pd.DataFrame,
    countries: list[str],
    scope_label: str,
    k: int,
) -> Sentence:
    what = figure.metric.replace("_", " ")
    if figure.value is None:
        return Sentence(
            f"{figure.year}, {scope_label}: {figure.source} published {what} for some of its countries only (see "
            "the table); no comparison for the whole scope.",
            source=SOURCE,
        )
    grace = float(counts.loc[counts["year"] == figure.year, "referrals"].sum())
    days = pd.to_datetime(daily["ds"]).dt.year
    grace_check = float(daily.loc[days == figure.year, "y"].sum())
    reread = [
        run_named(
            con,
            "report_published_figure",
            year=figure.year,
            country=country,
            metric=figure.metric,
            source=figure.source,
        )["value"]
        for country in figure.countries
    ]
    published_check = float(sum(found.iloc[0] for found in reread)) if all(len(f) == 1 for f in reread) else None
    published_numbers: tuple[CheckedNumber, ...] = ()
    if 0 < figure.value < k:
        said = f"{figure.source} published fewer than {k} {what}"
    else:
        shown = _published_text(figure.value)
        said = f"{figure.source} published {shown} {what}"
        published_numbers = (
            CheckedNumber(
                f"{figure.source}: {what}, {figure.year}, {scope_label}", shown, figure.value, published_check, 1e-6
            ),
        )
    if 0 < grace < k:
        return Sentence(
            f"{figure.year}, {scope_label}: GRACE's referrals are not shown (fewer than {k}; small-cell rule); {said}.",
            published_numbers,
            source=SOURCE,
        )
    grace_number = CheckedNumber(
        f"GRACE referrals in {figure.year}, {scope_label}", f"{grace:,.0f}", grace, grace_check, 0.5
    )
    numbers = [grace_number, *published_numbers]
    text = f"{figure.year}, {scope_label}: GRACE holds {grace:,.0f} referrals; {said}"
    if published_numbers and figure.value > 0:
        share = grace / figure.value
        share_check = grace_check / published_check if published_check else None
        share_shown = format_percent(share)
        numbers.append(
            CheckedNumber(
                f"GRACE as a share of {what}, {figure.year}", share_shown, share, share_check, _percent_tolerance(share)
            )
        )
        text += f" (GRACE's count is {share_shown} of it)"
    return Sentence(text + ".", tuple(numbers), source=SOURCE)


def _published_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _percent_tolerance(share: float) -> float:
    """Half the last digit `format_percent` shows (two decimals below 1 %, one below 10 %, none above)."""
    pct = abs(share) * 100
    return 0.00005 if pct < 1 else 0.0005 if pct < 10 else 0.005


def _table(counts: pd.DataFrame, published: pd.DataFrame, countries: list[str], eu: bool, k: int) -> Table:
    """Year × country: GRACE's referrals (suppressed, complementary within each year) and each published
    figure (one column per metric and source); for the EU-27 a total row per year."""
    grid = counts[["year", "country_iso3", "referrals"]].reset_index(drop=True)
    protected = suppress(grid, ["referrals"], ["year", "country_iso3"], k=k, margins=[("year",)])
    shown = protected.csv_frame()
    shown["referrals"] = shown["referrals"].astype(object)
    columns = sorted({(str(m), str(s)) for m, s in zip(published["metric"], published["source"])})
    rows = []
    for year in sorted(grid["year"].unique(), reverse=True):
        in_year = shown[shown["year"] == year]
        for _, row in in_year.sort_values("country_iso3").iterrows():
            cells = {"Year": str(year), "Country": country_name(row["country_iso3"]), GRACE_COLUMN: row["referrals"]}
            for metric, source in columns:
                found = published[
                    (published["year"] == year)
                    & (published["country_iso3"] == row["country_iso3"])
                    & (published["metric"] == metric)
                    & (published["source"] == source)
                ]
                cells[_column(metric, source)] = float(found["value"].iloc[0]) if len(found) else None
            rows.append(cells)
        if eu:
            total = int(grid.loc[grid["year"] == year, "referrals"].sum())
            cells = {"Year": str(year), "Country": EU_LABEL, GRACE_COLUMN: total if not 0 < total < k else MARKER}
            for metric, source in columns:
                found = published[
                    (published["year"] == year) & (published["metric"] == metric) & (published["source"] == source)
                ]
                complete = set(found["country_iso3"]) == set(countries)
                cells[_column(metric, source)] = float(found["value"].sum()) if complete else None
            rows.append(cells)
    frame = pd.DataFrame(rows, columns=["Year", "Country", GRACE_COLUMN, *(_column(m, s) for m, s in columns)])
    for metric, source in columns:
        name = _column(metric, source)
        frame[name] = frame[name].map(lambda v: _published_cell(v, k)).astype(object)
    note = f"{protected.note} Published figures are shown as published; an empty cell: none imported. {CAVEAT}"
    return Table("GRACE referrals and published yearly figures", frame, note)


def _published_cell(value: float | None, k: int) -> int | float | str | None:
    """A published figure as the table prints it: none imported → empty; from 1 to k − 1 → the marker."""
    if value is None or pd.isna(value):
        return None
    return MARKER if 0 < value < k else _number(value)


def _column(metric: str, source: str) -> str:
    return f"{metric.replace('_', ' ')} ({source})"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)
