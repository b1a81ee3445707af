"""The state of a dashboard view, and its round trip through a shareable URL query string.

Every view is a URL: the filters and choices of a page live in its query string
(`/trends?country=DEU&country=FRA&metric=files&grain=week`), so a link reproduces the view and
the export routes can rebuild any chart from the same string. `ViewState.from_query` is the
boundary: it accepts only known keys with valid values and raises `ViewStateError` naming the
bad key otherwise; unknown keys are ignored (links stay valid when a page drops a control).

The *global* part (countries, platforms, period) follows the analyst from page to page; the
rest belongs to the page that set it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode

import pandas as pd

from grace.errors import GraceError
from grace.scope import Scope, ScopeError
from grace.vocabulary import GRAINS, PERIOD_CODES, SeriesId

GLOBAL_KEYS = ("country", "platform", "start", "end")
MULTI_KEYS = ("country", "platform", "channel", "incident_type", "category", "annotation")
SPLITS = ("country", "platform", "channel", "incident_type", "category", "annotation")
# What the Dissemination page's map colours countries by: referrals per 100,000 inhabitants (the default:
# absolute counts mostly show population) or referrals. Map-only, unlike `per_capita` (off by default).
MAP_MEASURES = ("rate", "count")

_ISO3 = re.compile(r"^[A-Z]{3}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-/+&()]{0,79}$")  # platform names, codes, metric names
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
MAX_VALUES = 50


class ViewStateError(GraceError):
    """A query string value that is not valid for its key."""


@dataclass(frozen=True)
class ViewState:
    """Filters and choices of one view. Multi-valued filters are sorted tuples (empty = all)."""

    country: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    incident_type: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    annotation: tuple[str, ...] = ()
    start: str | None = None  # ISO date, inclusive
    end: str | None = None  # ISO date, inclusive
    metric: str = "referrals"
    compare: str | None = None  # a second metric drawn against the first
    grain: str = "month"
    split: str | None = None
    log: bool = False
    per_capita: bool = False
    map_measure: str = "rate"  # one of MAP_MEASURES
    capacity: int | None = None  # referrals triaged per day, for backlog projection
    series: str | None = None  # an analytics series id (metric|grain|split|entity) to drill into
    # Who is looking: never part of the URL, set only by `within` (from the signed-in user).
    scope: Scope = field(default_factory=Scope.everything)

    @classmethod
    def from_query(cls, search: str | Mapping[str, Any] | None) -> ViewState:
        """Parse `?a=1&b=2` (or Dash's page kwargs) into a validated state."""
        raw = _as_lists(search)
        values: dict[str, Any] = {}
        for key in MULTI_KEYS:
            if key in raw:
                values[key] = _multi(key, raw[key])
        for key in ("start", "end"):
            if key in raw:
                values[key] = _iso_date(key, raw[key][-1])
        for key in ("metric", "compare", "series"):
            if key in raw and raw[key][-1]:
                values[key] = _code(key, raw[key][-1])
        if "grain" in raw:
            values["grain"] = _choice("grain", raw["grain"][-1], GRAINS)
        if "map_measure" in raw and raw["map_measure"][-1]:
            values["map_measure"] = _choice("map_measure", raw["map_measure"][-1], MAP_MEASURES)
        if "split" in raw and raw["split"][-1]:
            values["split"] = _choice("split", raw["split"][-1], SPLITS)
        for key in ("log", "per_capita"):
            if key in raw:
                values[key] = _flag(key, raw[key][-1])
        if "capacity" in raw and raw["capacity"][-1]:
            values["capacity"] = _positive_int("capacity", raw["capacity"][-1])
        state = cls(**values)
        if state.start and state.end and state.start > state.end:
            raise ViewStateError(f"start {state.start} is after end {state.end}")
        return state

    def to_query(self) -> str:
        """The query string (with `?`, or empty) holding every non-default value, in a stable order."""
        pairs: list[tuple[str, str]] = []
        defaults = ViewState()
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "scope" or value == getattr(defaults, item.name):
                continue
            if isinstance(value, tuple):
                pairs.extend((item.name, part) for part in value)
            elif isinstance(value, bool):
                pairs.append((item.name, "1" if value else "0"))
            else:
                pairs.append((item.name, str(value)))
        return f"?{urlencode(pairs)}" if pairs else ""

    def within(self, scope: Scope) -> ViewState:
        """This view bound to what `scope` lets its user see; `ScopeError` when it asks for more.

        The country filter is cut to the scope (empty = the whole scope); a selected series must be
        one the scope allows (a scoped user's own country, never the EU total or a platform series).
        """
        if self.series and scope.restricted:
            parts = SeriesId.parse(self.series)
            if parts is None:
                raise ScopeError(f"series {self.series!r} cannot be checked against your scope")
            scope.require_series(parts.split_by, parts.entity)
        return replace(self, country=scope.countries_for(self.country), scope=scope)

    def in_period(self, dates: pd.Series, aligned_to: str | None = None) -> pd.Series:
        """Which `dates` fall in the view's period (start and end inclusive; a missing date does only when the
        period is unbounded).

        With `aligned_to` (a grain), the start is moved back to the start of its period, so a monthly
        point dated the 1st counts for a period starting mid-month.
        """
        when = pd.to_datetime(dates)
        keep = pd.Series(True, index=when.index)
        if self.start:
            start = pd.Timestamp(self.start)
            if aligned_to:
                start = start.to_period(PERIOD_CODES[aligned_to]).to_timestamp()
            keep &= when >= start
        if self.end:
            keep &= when <= pd.Timestamp(self.end)
        return keep

    def global_part(self) -> ViewState:
        """Only the filters that follow the analyst across pages."""
        return ViewState(**{key: getattr(self, key) for key in GLOBAL_KEYS})

    def with_changes(self, **changes: Any) -> ViewState:
        """A copy with some values replaced (lists become sorted tuples)."""
        for key in MULTI_KEYS:
            if key in changes:
                changes[key] = value_set(changes[key])
        changed = replace(self, **changes)
        # A scoped view stays scoped: a derived view (a drill-down, a selected row) is checked again.
        return changed.within(changed.scope) if changed.scope.restricted else changed

    def filters_text(self) -> str:
        """The filters in words, for chart exports and audit rows: `Countries: DEU, FRA · Period: all`."""
        parts = []
        for key, label in (
            ("country", "Countries"),
            ("platform", "Platforms"),
            ("channel", "Channels"),
            ("incident_type", "Incident types"),
            ("category", "Categories"),
            ("annotation", "Annotations"),
        ):
            value = getattr(self, key)
            if value or key in ("country", "platform"):
                parts.append(f"{label}: {', '.join(value) if value else 'all'}")
        if self.start or self.end:
            parts.append(f"Period: {self.start or 'first'} to {self.end or 'latest'}")
        else:
            parts.append("Period: all")
        if self.series:
            parts.append(f"Series: {self.series}")
        if self.per_capita:
            parts.append("per 100,000 inhabitants")
        return " · ".join(parts)


def value_set(values: Iterable[Any] | None) -> tuple[str, ...]:
    """A multi-value filter as views keep it: distinct, non-empty, as text, sorted (so URLs are stable)."""
    return tuple(sorted({str(v) for v in (values or ()) if v}))


def _as_lists(search: str | Mapping[str, Any] | None) -> dict[str, list[str]]:
    if not search:
        return {}
    if isinstance(search, str):
        return parse_qs(search.lstrip("?"), keep_blank_values=True)
    out: dict[str, list[str]] = {}
    for key, value in search.items():
        if isinstance(value, (list, tuple)):
            out[key] = [str(v) for v in value]
        elif value is not None:
            out[key] = [str(value)]
    return out


def _multi(key: str, values: list[str]) -> tuple[str, ...]:
    items = [part for value in values for part in value.split(",") if part]
    if len(items) > MAX_VALUES:
        raise ViewStateError(f"{key}: at most {MAX_VALUES} values, got {len(items)}")
    check = _ISO3 if key == "country" else _CODE
    for item in items:
        if not check.match(item):
            raise ViewStateError(f"{key}: {item!r} is not a valid value")
    return tuple(sorted(set(items)))


def _iso_date(key: str, value: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ViewStateError(f"{key}: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _code(key: str, value: str) -> str:
    if not _CODE.match(value) and not (key == "series" and re.match(r"^[A-Za-z0-9_|. \-/+&()]{1,200}$", value)):
        raise ViewStateError(f"{key}: {value!r} is not a valid value")
    return value


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ViewStateError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _flag(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ViewStateError(f"{key}: {value!r} is not a yes/no value")


def _positive_int(key: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ViewStateError(f"{key}: {value!r} is not a whole number") from None
    if number <= 0:
        raise ViewStateError(f"{key}: must be positive, got {number}")
    return number
