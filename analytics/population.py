"""Population reference figures and per-capita rates (counts per 100,000 inhabitants).

Why: country volumes differ by two orders of magnitude (Malta vs Germany), so a comparison of
countries needs rates. The figures come from a small reference CSV shipped with the code,
`analytics/reference/population.csv` (columns country_iso3, population, reference_date, source,
source_url), copied from a public Eurostat release that the file names; see
`analytics/reference/README.md`. Nothing is invented: a country without a sourced figure gets no
rate (NaN), is listed in `missing`, and a `MissingPopulationWarning` says so. The EU total gets a
rate only when every EU-27 country has a figure (otherwise the denominator would be too small).

The CSV is validated as a whole at load; the first problem raises `InputFileError` naming the row
(1 = header, data from row 2) and the field.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from grace.errors import InputFileError
from grace.vocabulary import TOTAL
from warehouse.reference import EU27_ISO3

POPULATION_CSV = Path(__file__).resolve().parent / "reference" / "population.csv"
COLUMNS = ("country_iso3", "population", "reference_date", "source", "source_url")
PER = 100_000
EU_TOTAL = TOTAL  # the EU total's entity name


class MissingPopulationWarning(UserWarning):
    """Some countries asked for have no sourced population figure, so no rate."""


@dataclass(frozen=True)
class PerCapita:
    """Rates per 100,000 inhabitants and the entities that got none (no sourced figure)."""

    frame: pd.DataFrame
    missing: tuple[str, ...] = field(default_factory=tuple)


def load_population(path: Path | str | None = None) -> pd.DataFrame:
    """The population table (one row per country), validated; `InputFileError` names row and field."""
    source = Path(path) if path is not None else POPULATION_CSV
    try:
        table = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputFileError(source, f"cannot read population file ({error})") from error
    absent = [c for c in COLUMNS if c not in table.columns]
    if absent:
        raise InputFileError(source, f"missing column(s) {', '.join(absent)}", row=1)
    table = table[list(COLUMNS)].apply(lambda column: column.str.strip())
    rows = pd.Series(np.arange(2, len(table) + 2), index=table.index)
    population = pd.to_numeric(table["population"], errors="coerce")
    dates = pd.to_datetime(table["reference_date"], format="%Y-%m-%d", errors="coerce")
    checks = (
        ("country_iso3", ~table["country_iso3"].str.fullmatch(r"[A-Z]{3}"), "not an ISO 3166-1 alpha-3 code"),
        ("country_iso3", table["country_iso3"].duplicated(keep="first"), "duplicate country"),
        ("population", ~(population > 0) | (population % 1 != 0), "not a positive whole number"),
        ("reference_date", dates.isna(), "not an ISO date (YYYY-MM-DD)"),
        ("source", table["source"] == "", "missing source"),
        ("source_url", ~table["source_url"].str.match(r"https?://\S+$"), "missing or invalid source URL"),
    )
    problems = [
        (int(rows[bad].min()), name, reason, table.loc[bad, name].iloc[0]) for name, bad, reason in checks if bad.any()
    ]
    if problems:
        row, name, reason, value = min(problems)
        raise InputFileError(source, f"{reason}: {value!r}", row=row, field=name)
    out = table.assign(population=population.astype("int64"), reference_date=dates.dt.date)
    return out.sort_values("country_iso3").reset_index(drop=True)


def per_capita(
    series: pd.DataFrame, countries: Iterable[str] | None = None, *, population: pd.DataFrame | None = None
) -> PerCapita:
    """Turn counts into counts per 100,000 inhabitants.

    series: a `load_series` frame. When it is split by country (`attrs["split"] == "country"`)
        each entity is a country; otherwise every row (and every entity of another split) is a
        sum over `countries` (a country filter), or over the EU-27 (the EU total) when `countries`
        is None or empty.
    Entities without a figure get NaN and are listed in `missing` (with a warning); a sum over
    several countries gets NaN when any of them lacks one, so the EU total needs all EU-27.
    """
    table = load_population() if population is None else population
    figures = dict(zip(table["country_iso3"], table["population"]))
    out = series.copy()
    if "entity" in out.columns and series.attrs.get("split") == "country":
        denominator = out["entity"].map(figures).astype(float)
        missing = sorted(set(out.loc[denominator.isna(), "entity"]))
    else:
        members = sorted(set(countries)) if countries else list(EU27_ISO3)
        missing = [c for c in members if c not in figures]
        denominator = pd.Series(np.nan if missing else float(sum(figures[c] for c in members)), index=out.index)
    out["y"] = out["y"] / denominator * PER
    out.attrs.update(
        series.attrs,
        unit="per 100k inhabitants",
        population_missing=tuple(missing),
        population_reference=sorted(set(table["reference_date"].astype(str))),
    )
    if missing:
        warnings.warn(
            f"no sourced population figure for {', '.join(missing)}: no per-capita rate (NaN)",
            MissingPopulationWarning,
            stacklevel=2,
        )
    return PerCapita(out, tuple(missing))
