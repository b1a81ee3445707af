"""Validate a (date, value[, entity]) table and turn it into a calendar-complete regular series.

Every detector works on a `RegularSeries` (or a `RegularPanel` of them): one value per period of
a fixed frequency — D (day), W (ISO week, Monday start), M (month), Q (quarter), Y (year) — with
explicit zeros for periods without data (count semantics), labelled by the period's first day.

Input is refused with a `SeriesInputError` naming the source, the row (data rows count from 1,
the header excluded) and the column: missing columns, missing or unparseable dates, duplicated
dates (within an entity), non-numeric or non-finite values, too few points. Dates are ISO 8601
(YYYY-MM-DD, YYYY-MM, YYYY, timestamps with an optional offset — converted to UTC), ISO weeks
(YYYY-Www) or quarters (YYYY-Qn). Day-first/month-first forms like 03/05/2023 are ambiguous and
refused. When finer data is aggregated to a coarser frequency, a first or last period that the
data only partly covers is dropped (a half-observed month would look like a dip) and noted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from grace.errors import InputFileError

FREQUENCIES = ("D", "W", "M", "Q", "Y")
FREQ_NAMES = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
FREQ_ADJECTIVES = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "Y": "yearly"}
SEASON_LENGTH = {"D": 7, "W": 52, "M": 12, "Q": 4, "Y": 1}
PERIODS_PER_YEAR = {"D": 365, "W": 52, "M": 12, "Q": 4, "Y": 1}
_PERIOD_ALIAS = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}
_ORDER = {f: i for i, f in enumerate(FREQUENCIES)}

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})(?:-?([1-7]))?$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


class SeriesInputError(InputFileError):
    """A series cannot be built from the input; names the source, row and column at fault."""


class TooFewPointsError(SeriesInputError):
    """The series is too short for what was asked."""


@dataclass(frozen=True)
class RegularSeries:
    """One value per period, calendar-complete. `frame` has columns `ds` (period start) and `y`."""

    frame: pd.DataFrame
    freq: str
    name: str = "series"
    notes: tuple[str, ...] = ()

    @property
    def y(self) -> np.ndarray:
        """The values as floats: a fresh copy on each call (callers may change it), of an array read from
        the frame once (the detectors and forecasts ask for it thousands of times a run)."""
        return self._values.copy()

    @cached_property
    def _values(self) -> np.ndarray:
        return self.frame["y"].to_numpy(dtype=float, copy=True)

    @cached_property
    def ds(self) -> pd.DatetimeIndex:
        """The period starts (an immutable index, read from the frame once)."""
        return pd.DatetimeIndex(self.frame["ds"])

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def season_length(self) -> int:
        return SEASON_LENGTH[self.freq]

    @property
    def periods_per_year(self) -> int:
        return PERIODS_PER_YEAR[self.freq]

    def future_dates(self, horizon: int) -> pd.DatetimeIndex:
        last = pd.Period(self.ds[-1], _PERIOD_ALIAS[self.freq])
        return pd.DatetimeIndex([(last + k).start_time for k in range(1, horizon + 1)])

    def require(self, needed: int, purpose: str) -> None:
        """Raise `TooFewPointsError` unless the series has at least `needed` periods."""
        if self.n < needed:
            raise TooFewPointsError(
                self.name,
                f"only {self.n} {FREQ_ADJECTIVES[self.freq]} point(s) after regularisation; "
                f"{purpose} needs at least {needed}",
            )


@dataclass(frozen=True)
class RegularPanel:
    """Several entities on one common calendar. `frame` has columns `ds`, `entity`, `y`."""

    frame: pd.DataFrame
    freq: str
    name: str = "panel"
    notes: tuple[str, ...] = ()

    @property
    def entities(self) -> list[str]:
        return sorted(self.frame["entity"].unique().tolist())

    @property
    def n(self) -> int:
        return self.frame["ds"].nunique()

    def wide(self) -> pd.DataFrame:
        """Periods as rows, entities as columns (sorted)."""
        table = self.frame.pivot(index="ds", columns="entity", values="y")
        return table[self.entities]

    def series(self, entity: str) -> RegularSeries:
        part = self.frame.loc[self.frame["entity"] == entity, ["ds", "y"]].reset_index(drop=True)
        return RegularSeries(part, self.freq, name=f"{self.name} [{entity}]")

    def total(self) -> RegularSeries:
        total = self.frame.groupby("ds", sort=True)["y"].sum().reset_index()
        return RegularSeries(total, self.freq, name=f"{self.name} [total]", notes=self.notes)


# ---------------------------------------------------------------------------------------------
# Reading and validating
# ---------------------------------------------------------------------------------------------


def read_table(path: Path | str, columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV file as text, checking that the named columns exist."""
    path = Path(path)
    if not path.is_file():
        raise SeriesInputError(path, "file not found")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SeriesInputError(path, f"not UTF-8 text ({error.reason})") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise SeriesInputError(path, f"not a readable CSV file ({str(error).strip().splitlines()[0]})") from error
    table.columns = [str(c).strip() for c in table.columns]
    check_columns(table, columns, source=str(path))
    if table.empty:
        raise SeriesInputError(path, "no data rows below the header")
    return table


def check_columns(frame: pd.DataFrame, columns: Iterable[str], source: str = "input") -> None:
    for column in columns:
        if column not in frame.columns:
            have = ", ".join(map(str, frame.columns)) or "no columns"
            raise SeriesInputError(source, f"column not found (the header has: {have})", field=column)


def parse_dates(values: pd.Series, column: str, source: str = "input") -> pd.Series:
    """Parse ISO 8601 dates, ISO weeks and quarters to naive UTC timestamps; refuse anything else."""
    text = values.astype(str).str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    for position in np.flatnonzero(parsed.isna().to_numpy()):
        raw = text.iloc[position]
        fallback = _parse_period_label(raw)
        if fallback is None:
            reason = (
                "missing date"
                if raw == ""
                else (f"cannot parse date {raw!r} (expected ISO 8601: YYYY-MM-DD, YYYY-MM, YYYY, YYYY-Www or YYYY-Qn)")
            )
            raise SeriesInputError(source, reason, row=_row(values, int(position)), field=column)
        parsed.iloc[position] = pd.Timestamp(fallback, tz="UTC")
    return parsed.dt.tz_localize(None)


def parse_values(values: pd.Series, column: str, source: str = "input") -> pd.Series:
    """Parse numbers; refuse empty, non-numeric and non-finite values, naming the row."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
        text = values.astype(str)
    else:
        text = values.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
    bad = ~np.isfinite(numbers.to_numpy(dtype=float))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raw = text.iloc[position]
        reason = "missing value" if raw in ("", "nan", "None") else f"not a finite number: {raw!r}"
        raise SeriesInputError(source, reason, row=_row(values, position), field=column)
    return numbers.astype(float)


def infer_freq(dates: pd.Series | pd.DatetimeIndex, source: str = "input") -> str:
    """The frequency the dates are recorded at, from their smallest spacing (in days)."""
    unique = np.sort(pd.DatetimeIndex(dates).normalize().unique())
    if len(unique) < 2:
        raise TooFewPointsError(source, f"{len(unique)} distinct date(s): cannot infer a frequency")
    spacing = np.diff(unique).astype("timedelta64[D]").astype(int).min()
    if spacing < 4:
        return "D"
    if spacing < 20:
        return "W"
    if spacing < 80:
        return "M"
    if spacing < 300:
        return "Q"
    return "Y"


def to_series(
    frame: pd.DataFrame,
    date_col: str = "ds",
    value_col: str = "y",
    freq: str | None = None,
    agg: str = "sum",
    source: str = "input",
    drop_partial: bool = True,
) -> RegularSeries:
    """Validate a table with one row per date and regularise it (see the module docstring)."""
    check_columns(frame, (date_col, value_col), source)
    if frame.empty:
        raise SeriesInputError(source, "no data rows")
    dates = parse_dates(frame[date_col], date_col, source)
    values = parse_values(frame[value_col], value_col, source)
    _refuse_duplicates(frame, dates, date_col, source)
    regular, freq, notes = _regularise(dates, values, freq, agg, source, drop_partial)
    return RegularSeries(regular.reset_index(drop=True), freq, name=source, notes=notes)


def to_panel(
    frame: pd.DataFrame,
    date_col: str = "ds",
    entity_col: str = "entity",
    value_col: str = "y",
    freq: str | None = None,
    agg: str = "sum",
    source: str = "input",
    drop_partial: bool = True,
) -> RegularPanel:
    """Validate a long table (date, entity, value) and put every entity on one common calendar."""
    check_columns(frame, (date_col, entity_col, value_col), source)
    if frame.empty:
        raise SeriesInputError(source, "no data rows")
    entities = frame[entity_col].astype(str).str.strip()
    if (entities == "").any():
        position = int(np.flatnonzero((entities == "").to_numpy())[0])
        raise SeriesInputError(source, "missing entity", row=_row(frame, position), field=entity_col)
    dates = parse_dates(frame[date_col], date_col, source)
    values = parse_values(frame[value_col], value_col, source)
    _refuse_duplicates(frame, dates, date_col, source, by=entities)
    freq = _check_freq(freq, dates, source)
    # regularise the total first: it fixes the common calendar and which edge periods are partial
    total, freq, notes = _regularise(dates, values, freq, agg, source, drop_partial)
    periods = dates.dt.to_period(_PERIOD_ALIAS[freq]).dt.start_time
    long = pd.DataFrame({"ds": periods.to_numpy(), "entity": entities.to_numpy(), "y": values.to_numpy()})
    table = long.pivot_table(index="ds", columns="entity", values="y", aggfunc=agg)
    table = table.reindex(pd.DatetimeIndex(total["ds"]))
    if agg == "mean" and table.isna().any().any():
        period, entity = table.isna().stack().loc[lambda flags: flags].index[0]
        raise SeriesInputError(
            source,
            f"no data for entity {entity!r} in the period starting {period.date()} (averages cannot be zero-filled)",
        )
    table = table.fillna(0.0)
    stacked = table.stack().rename("y").reset_index()
    stacked.columns = ["ds", "entity", "y"]
    stacked = stacked.sort_values(["entity", "ds"], kind="mergesort").reset_index(drop=True)
    return RegularPanel(stacked[["ds", "entity", "y"]].astype({"y": float}), freq, name=source, notes=notes)


def read_series(
    path: Path | str, date_col: str, value_col: str, freq: str | None = None, agg: str = "sum"
) -> RegularSeries:
    table = read_table(path, (date_col, value_col))
    return to_series(table, date_col, value_col, freq=freq, agg=agg, source=str(path))


def read_panel(
    path: Path | str, date_col: str, entity_col: str, value_col: str, freq: str | None = None, agg: str = "sum"
) -> RegularPanel:
    table = read_table(path, (date_col, entity_col, value_col))
    return to_panel(table, date_col, entity_col, value_col, freq=freq, agg=agg, source=str(path))


# ---------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------


def _row(frame: pd.DataFrame | pd.Series, position: int) -> int:
    """Data-row number (1 = first row below the header) of a positional index."""
    return position + 1


def _parse_period_label(raw: str) -> date | None:
    match = _ISO_WEEK.match(raw)
    if match:
        year, week, day = int(match[1]), int(match[2]), int(match[3] or 1)
        try:
            return date.fromisocalendar(year, week, day)
        except ValueError:
            return None
    match = _QUARTER.match(raw)
    if match:
        return date(int(match[1]), 3 * int(match[2]) - 2, 1)
    return None


def _refuse_duplicates(
    frame: pd.DataFrame, dates: pd.Series, date_col: str, source: str, by: pd.Series | None = None
) -> None:
    keys = pd.DataFrame({"d": dates.to_numpy()})
    if by is not None:
        keys["e"] = by.to_numpy()
    repeated = keys.duplicated(keep="first").to_numpy()
    if repeated.any():
        position = int(np.flatnonzero(repeated)[0])
        same = (keys == keys.iloc[position]).all(axis=1).to_numpy()
        first = int(np.flatnonzero(same)[0])
        stamp = pd.Timestamp(dates.iloc[position])
        shown = stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
        whose = f" for entity {by.iloc[position]!r}" if by is not None else ""
        raise SeriesInputError(
            source,
            f"duplicated date {shown}{whose} (first at row {_row(frame, first)})",
            row=_row(frame, position),
            field=date_col,
        )


def _check_freq(freq: str | None, dates: pd.Series, source: str) -> str:
    native = infer_freq(dates, source)
    if freq is None:
        return native
    freq = freq.upper()
    if freq not in FREQUENCIES:
        raise SeriesInputError(source, f"unknown frequency {freq!r}; use one of {', '.join(FREQUENCIES)}")
    if _ORDER[freq] < _ORDER[native]:
        raise SeriesInputError(
            source,
            f"the dates are {FREQ_ADJECTIVES[native]}; cannot analyse them per "
            f"{FREQ_NAMES[freq]} (use --freq {native} or coarser)",
        )
    return freq


def _regularise(
    dates: pd.Series, values: pd.Series, freq: str | None, agg: str, source: str, drop_partial: bool
) -> tuple[pd.DataFrame, str, tuple[str, ...]]:
    if agg not in ("sum", "mean"):
        raise SeriesInputError(source, f"unknown aggregation {agg!r}; use sum or mean")
    native = infer_freq(dates, source) if dates.nunique() > 1 else None
    freq = _check_freq(freq, dates, source) if native else (freq or "D").upper()
    alias = _PERIOD_ALIAS[freq]
    periods = dates.dt.to_period(alias)
    grouped = values.groupby(periods.to_numpy()).agg(agg)
    full = pd.period_range(periods.min(), periods.max(), freq=alias)
    notes: list[str] = []
    if agg == "mean":
        empty = full.difference(grouped.index)
        if len(empty):
            raise SeriesInputError(source, f"no data in period {empty[0]} (averages cannot be zero-filled)")
    regular = grouped.reindex(full, fill_value=0.0)
    missing = int(len(full) - len(grouped))
    if missing:
        notes.append(f"{missing} period(s) without data filled with explicit zeros")
    if drop_partial and native and _ORDER[native] < _ORDER[freq] and len(regular) > 2:
        native_alias = _PERIOD_ALIAS[native]
        first_native = pd.Period(dates.min(), native_alias).start_time
        last_native = pd.Period(dates.max(), native_alias).end_time
        if first_native > full[0].start_time:
            notes.append(f"first period {full[0]} only partly covered by the data; dropped")
            regular = regular.iloc[1:]
        if last_native < full[-1].end_time.normalize():
            notes.append(f"last period {full[-1]} only partly covered by the data; dropped")
            regular = regular.iloc[:-1]
    out = pd.DataFrame({"ds": regular.index.to_timestamp(how="start"), "y": regular.to_numpy(dtype=float)})
    return out, freq, tuple(notes)
