"""Series from the warehouse: any rollup metric x filters x split x grain, calendar-complete.

`load_series(con, metric, grain, filters, split)` reads one of the daily rollups through a named
query (`sql/analytics/series_rollup.sql`, filled in for its rollup) and returns a tidy frame with
columns `ds` (period start: day, ISO week starting Monday, month, quarter or year), `y` and, when
split, `entity` — one row per period (per entity) with explicit zeros for periods without data.

The calendar spans the whole rollup (not just the filtered rows), so every selection and every
entity of a split share one calendar, and a split's entities sum to the unsplit total for count
metrics. By default a first or last period that the rollup's dates only partly cover is dropped
(a half-observed month would look like a dip).

Metrics are counts (the sum of one rollup column) or ratios (sum of a numerator over the sum of a
denominator: shares in [0, 1], or a mean such as days to triage). A ratio whose denominator is zero
in a period is reported as 0 (calendar-complete, never NaN); `load_series(..., parts=True)` also
returns the `numerator` and `denominator` columns so a caller can tell.

Only names from the allow-lists below ever reach the SQL text: metric columns and split columns are
identifiers chosen in code; filter values are bound as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Optional, Union

import duckdb
import numpy as np
import pandas as pd

from grace.config import SQL_DIR
from grace.errors import GraceError

REFERRAL, FILE = "referral", "file"


class SeriesRequestError(GraceError):
    """An unknown metric, grain, split or filter was asked of the warehouse."""


@dataclass(frozen=True)
class Metric:
    """One warehouse metric: a rollup column summed, or the ratio of two summed columns."""

    name: str
    source: str  # REFERRAL (rollup_referral_daily) or FILE (rollup_file_daily)
    numerator: str
    denominator: Optional[str] = None
    unit: str = "count"
    group: str = "operations"
    description: str = ""

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None


METRICS: dict[str, Metric] = {m.name: m for m in (
    # operations
    Metric("referrals", REFERRAL, "referrals", description="distinct referrals (by incident date)"),
    Metric("actionable_referrals", REFERRAL, "actionable", description="referrals flagged actionable"),
    Metric("escalated_referrals", REFERRAL, "escalated", description="referrals escalated"),
    Metric("triaged_referrals", REFERRAL, "triaged", description="referrals triaged"),
    Metric("actionable_share", REFERRAL, "actionable", "referrals", unit="share",
           description="actionable referrals / referrals"),
    Metric("time_to_triage_days", REFERRAL, "triage_days_sum", "triaged", unit="days",
           description="mean days from receipt to triage, over the referrals triaged"),
    Metric("referral_files", REFERRAL, "files", description="files attached to the referrals (referral rollup)"),
    Metric("bundled_incidents", REFERRAL, "bundled_incidents", description="incidents bundled into the referrals"),
    Metric("sextortion_referrals", REFERRAL, "with_sextortion", group="harm",
           description="referrals with a sextortion indicator"),
    Metric("solicitation_referrals", REFERRAL, "with_solicitation", group="harm",
           description="referrals with a solicitation indicator"),
    # production (files and media clusters)
    Metric("files", FILE, "files", group="production", description="file occurrences"),
    Metric("new_media_clusters", FILE, "new_clusters", group="production",
           description="media clusters seen for the first time"),
    Metric("known_files", FILE, "known_files", group="production", description="files of known material"),
    Metric("known_material_share", FILE, "known_files", "files", unit="share", group="production",
           description="files of known material / files"),
    Metric("self_generated_files", FILE, "self_generated", group="production", description="self-generated files"),
    Metric("self_generated_share", FILE, "self_generated", "files", unit="share", group="production",
           description="self-generated files / files"),
    Metric("generative_ai_files", FILE, "generative_ai", group="production", description="generative-AI files"),
    Metric("generative_ai_share", FILE, "generative_ai", "files", unit="share", group="production",
           description="generative-AI files / files"),
    Metric("viral_files", FILE, "viral", group="dissemination", description="files flagged viral"),
    Metric("viral_share", FILE, "viral", "files", unit="share", group="dissemination",
           description="viral files / files"),
)}

GRAINS = ("day", "week", "month", "quarter", "year")
GRAIN_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_GRAIN_ALIASES = {"d": "day", "daily": "day", "w": "week", "weekly": "week", "m": "month", "monthly": "month",
                  "q": "quarter", "quarterly": "quarter", "y": "year", "yearly": "year", "annual": "year"}

# dimension name -> (rollup column, which rollups have it)
DIMENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "country": ("country_iso3", (REFERRAL, FILE)),
    "platform": ("platform_name", (REFERRAL, FILE)),
    "channel": ("channel", (REFERRAL,)),
    "incident_type": ("incident_type_code", (REFERRAL,)),
    "category": ("category_code", (FILE,)),
}
# the `$list` parameter each filter binds, per rollup
_FILTER_PARAMS = {
    REFERRAL: {"country": "countries", "platform": "platforms", "channel": "channels",
               "incident_type": "incident_types"},
    FILE: {"country": "countries", "platform": "platforms", "category": "categories"},
}
_ROLLUPS = {REFERRAL: "rollup_referral_daily", FILE: "rollup_file_daily"}
TOTAL = "total"

FilterValue = Union[str, Iterable[str]]


def metric(name: str) -> Metric:
    """The metric called `name`, or a `SeriesRequestError` listing the known ones."""
    found = METRICS.get(str(name).strip().lower())
    if found is None:
        raise SeriesRequestError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}")
    return found


def grain_name(grain: str) -> str:
    """Normalise a grain ('month', 'M', 'monthly' ...) or raise `SeriesRequestError`."""
    text = str(grain).strip().lower()
    text = _GRAIN_ALIASES.get(text, text)
    if text not in GRAINS:
        raise SeriesRequestError(f"unknown grain {grain!r}; choose from {', '.join(GRAINS)}")
    return text


def dimensions_of(metric_name: str) -> tuple[str, ...]:
    """The dimensions a metric can be filtered and split by."""
    source = metric(metric_name).source
    return tuple(d for d, (_, sources) in DIMENSIONS.items() if source in sources)


def _dimension(name: str, m: Metric, role: str) -> str:
    key = str(name).strip().lower()
    allowed = [d for d, (_, sources) in DIMENSIONS.items() if m.source in sources]
    if key not in allowed:
        raise SeriesRequestError(f"cannot {role} metric {m.name!r} by {name!r}; choose from {', '.join(allowed)}")
    return key


@lru_cache(maxsize=1)
def _series_template() -> str:
    return (SQL_DIR / "analytics" / "series_rollup.sql").read_text(encoding="utf-8")


def series_sql(m: Metric, split: Optional[str]) -> str:
    """The query text for a metric and split, identifiers filled in from the allow-lists only."""
    entity = f"r.{DIMENSIONS[split][0]}" if split else f"'{TOTAL}'"
    denominator = f"r.{m.denominator}" if m.denominator else "0"
    filters = "\n      ".join(
        f"AND (len(CAST(${param} AS VARCHAR[])) = 0 OR list_contains(CAST(${param} AS VARCHAR[]), r.{DIMENSIONS[dim][0]}))"
        for dim, param in _FILTER_PARAMS[m.source].items()
    )
    return (_series_template().replace("{rollup}", _ROLLUPS[m.source]).replace("{numerator}", m.numerator)
            .replace("{denominator}", denominator).replace("{entity}", entity)
            .replace("{dimension_filters}", filters))


def load_series(con: duckdb.DuckDBPyConnection, metric_name: str, grain: str = "month",
                filters: Optional[Mapping[str, FilterValue]] = None, split: Optional[str] = None,
                drop_partial: bool = True, parts: bool = False) -> pd.DataFrame:
    """One metric per period (per entity of `split`), calendar-complete with explicit zeros.

    filters: dimension -> value or list of values (e.g. {"country": ["DEU", "FRA"]}); dimensions
        are country, platform, and channel / incident_type (referral metrics) or category (file
        metrics). An empty list means no filter.
    split: None (one series) or a dimension: one series per entity with data in the selection.
    Returns columns ds, y[, entity][, numerator, denominator], sorted by entity then ds; an
    unknown metric, grain, filter or split raises `SeriesRequestError`.
    """
    m = metric(metric_name)
    grain = grain_name(grain)
    split_key = _dimension(split, m, "split") if split is not None else None
    bound: dict[str, object] = {p: [] for p in _FILTER_PARAMS[m.source].values()}
    for name, value in (filters or {}).items():
        key = _dimension(name, m, "filter")
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        bound[_FILTER_PARAMS[m.source][key]] = sorted(set(values))
    bound.update(grain=grain, drop_partial=bool(drop_partial), split=split_key is not None)
    table = con.execute(series_sql(m, split_key), bound).df()
    table["ds"] = pd.to_datetime(table["ds"])
    num = table["numerator"].to_numpy(dtype=float)
    if m.is_ratio:
        den = table["denominator"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    else:
        y = num
    table["y"] = y
    columns = ["ds", "y"] + (["entity"] if split_key else []) + (["numerator", "denominator"] if parts else [])
    out = table[columns].reset_index(drop=True)
    out.attrs.update(metric=m.name, grain=grain, split=split_key, unit=m.unit)
    return out
