"""Series from the warehouse: any metric x filters x split x grain, calendar-complete.

`load_series(con, metric, grain, filters, split)` reads small materialised tables (never the facts)
through named queries in `sql/analytics/` and returns a tidy frame with columns `ds` (period start:
day, ISO week starting Monday, month, quarter or year), `y` and, when split, `entity` - one row per
period (per entity) with explicit zeros for periods without data.

The calendar spans the whole rollup (not just the filtered rows), so every selection and every
entity of a split share one calendar, and a split's entities sum to the unsplit total for additive
metrics. By default a first or last period that the rollup's dates only partly cover is dropped
(a half-observed month would look like a dip).

Kinds of metric (the `unit` says which):
- count: the sum of a daily rollup column (flows: additive over days and over entities);
- share / days / ratio: sum of a numerator over the sum of a denominator. A ratio whose denominator
  is zero in a period is reported as 0 (calendar-complete, never NaN); `parts=True` also returns
  the `numerator` and `denominator` columns so a caller can tell;
- stock: a level at each period's end (the backlog = referrals received minus triaged, summed
  from the first day of data to the end of the period); additive over entities, not over time;
- distinct: a count of distinct things per period (accounts, media clusters), read from the
  per-grain mart `mart_distinct_period` (EU total, per country, per platform); additive neither
  over time nor over entities, so it can be filtered by one country or one platform, or split by
  country or by platform - one of the two dimensions at a time;
- the platform mix (`platform_share`): referrals of each platform / all referrals of the same
  selection (other filters kept, the platform filter dropped from the denominator).

Definitions of the dissemination and consumption metrics:
- `reshared_files`: file occurrences that are not their media cluster's first sighting;
- `reshares_per_cluster`: re-shares in the period / distinct media clusters seen in the period
  (`reshared_files` from the file rollup over `clusters` from the mart, same selection);
- `multi_country_clusters`: media clusters whose second country was first reached in the period
  (from `cluster_reach`; attributed to that second country when filtered or split by country);
- `reported_accounts`: distinct pseudonymous accounts on the period's referrals;
- `new_reported_accounts`: referrals that are their account's first report (= accounts reported
  for the first time); `repeat_referrals`: referrals whose account was already reported on an
  earlier referral (earlier incident date, ties by referral key); `repeat_reporting_share`:
  repeat referrals / referrals that carry an account pseudonym.

Media matching metrics, from `rollup_perceptual_daily` (day x country x platform x category; files
are attributed to where and when they were seen; exact clusters = same MD5/SHA1, perceptual
clusters = exact clusters whose PDQ hashes lie within Hamming distance T = 31 of each other,
transitively):
- `perceptually_new_files`: files that are the first sighting of their perceptual cluster (new
  material, near-duplicates counted as the same material); `perceptually_known_files`: all other
  files (files - perceptually new files: material seen before, exactly or as a near-duplicate);
  `perceptually_new_share`: perceptually new files / files;
- `near_duplicate_variants`: files that are the first sighting of their exact cluster but not of
  their perceptual cluster (a new exact variant - re-encoded, resized, cropped ... - of material
  seen before);
- `variants_per_new_item`: exact clusters first seen in the period / perceptual clusters first seen
  in the period (= 1 + near-duplicate variants / perceptually new files). A flow ratio over the
  same selection and period, not a per-cluster count: the numerator includes new variants of
  older material, so it reads "new file variants appearing per new item appearing"; 1 means no new
  variant of anything, 0 is reported for periods without a new item. A per-cluster "variants per
  cluster" is not additive over days and the rollup does not hold it (`perceptual_cluster.variants`
  is today's total per cluster, not a series);
- `cross_platform_reshares` / `cross_country_reshares`: files of a perceptual cluster that is not
  their first sighting, seen on a platform / in a country other than where the perceptual cluster
  was first seen; `cross_platform_reshare_share` / `cross_country_reshare_share`: those / files;
- `bank_matched_files`: files whose media cluster matches an enabled entry of a positive hash bank
  (not suppressed by a negative bank); 0 until a bank is imported; `bank_match_share`: those /
  files; split by `category`, it is the file's category code (not the bank entry's).
These metrics take country, platform and category filters and splits; the rollup carries no
annotations, channels or incident types, so asking for them is a `SeriesRequestError`.

Annotation as a dimension: referral metrics know sextortion, solicitation and minor_to_minor;
file metrics know viral, self_generated, generative_ai, live_streaming and known. Filtering by
annotations keeps the rows that carry any of them; splitting gives one series per annotation (a
row with two annotations counts in both, so annotation entities sum to annotation memberships,
not to the total; rows without annotations are in no entity).

Per capita: `per_capita=True` divides count, stock and distinct metrics by the population of the
selected countries (per 100,000 inhabitants, `analytics.population`): per country when split by
country, else for the filtered countries, or for the EU-27 total (only when every EU-27 country
has a sourced figure; unfiltered, the selection is restricted to the EU-27). Countries without a
figure get NaN and are named in `attrs["population_missing"]` with a warning.

Only names from the allow-lists below ever reach the SQL text: metric columns, annotation flags and
split columns are identifiers chosen in code; filter values are bound as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd

from grace.errors import GraceError
from grace.vocabulary import GRAINS, TOTAL
from warehouse import is_monthly, read_sql
from warehouse.grain import MONTHLY, RELEASED_METRICS, finer_than
from warehouse.period_rollups import PERIOD_ROLLUPS, period_table
from warehouse.reference import EU27_ISO3

# Sources: the table a metric is read from.
REFERRAL, FILE, BACKLOG, SPREAD, DISTINCT = "referral", "file", "backlog", "spread", "distinct"
PERCEPTUAL = "perceptual"  # rollup_perceptual_daily: perceptual clusters (PDQ near-duplicates) and hash banks
TRIAGE = "triage"  # rollup_triage_daily: referrals' current triage tiers, by received day
ALL = "*"  # the mart's "all countries / all platforms" value


class SeriesRequestError(GraceError):
    """An unknown or unsupported metric, grain, split, filter or option was asked of the warehouse."""


@dataclass(frozen=True)
class Metric:
    """One warehouse metric: a rollup column (or difference of columns) summed, or a ratio of two.

    kind: 'sum' (rollup columns), 'stock' (running level), 'mix' (share of the selection's total),
        'per_distinct' (a file-rollup numerator over a distinct count of the mart).
    """

    name: str
    source: str
    numerator: str
    denominator: str | None = None
    unit: str = "count"
    group: str = "operations"
    description: str = ""
    kind: str = "sum"

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None

    @property
    def additive(self) -> bool:
        """True when a split's entities sum to the total (counts and stocks)."""
        return self.unit in ("count", "stock")


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        # operations
        Metric("referrals", REFERRAL, "referrals", description="distinct referrals (by incident date)"),
        Metric("actionable_referrals", REFERRAL, "actionable", description="referrals flagged actionable"),
        Metric("escalated_referrals", REFERRAL, "escalated", description="referrals escalated"),
        Metric("triaged_referrals", REFERRAL, "triaged", description="referrals triaged"),
        Metric(
            "actionable_share",
            REFERRAL,
            "actionable",
            "referrals",
            unit="share",
            description="actionable referrals / referrals",
        ),
        Metric(
            "time_to_triage_days",
            REFERRAL,
            "triage_days_sum",
            "triaged",
            unit="days",
            description="mean days from receipt to triage, over the referrals triaged",
        ),
        Metric("referral_files", REFERRAL, "files", description="files attached to the referrals (referral rollup)"),
        Metric("bundled_incidents", REFERRAL, "bundled_incidents", description="incidents bundled into the referrals"),
        Metric(
            "backlog",
            BACKLOG,
            "received - triaged",
            unit="stock",
            kind="stock",
            description="referrals received but not yet triaged at the end of the period (by received/triaged date)",
        ),
        Metric(
            "sextortion_referrals",
            REFERRAL,
            "with_sextortion",
            group="harm",
            description="referrals with a sextortion indicator",
        ),
        Metric(
            "solicitation_referrals",
            REFERRAL,
            "with_solicitation",
            group="harm",
            description="referrals with a solicitation indicator",
        ),
        Metric(
            "minor_to_minor_referrals",
            REFERRAL,
            "with_minor_to_minor",
            group="harm",
            description="referrals with a minor-to-minor interaction indicator",
        ),
        # production (files and media clusters)
        Metric("files", FILE, "files", group="production", description="file occurrences"),
        Metric(
            "new_media_clusters",
            FILE,
            "new_clusters",
            group="production",
            description="media clusters seen for the first time",
        ),
        Metric("known_files", FILE, "known_files", group="production", description="files of known material"),
        Metric(
            "known_material_share",
            FILE,
            "known_files",
            "files",
            unit="share",
            group="production",
            description="files of known material / files",
        ),
        Metric("self_generated_files", FILE, "self_generated", group="production", description="self-generated files"),
        Metric(
            "self_generated_share",
            FILE,
            "self_generated",
            "files",
            unit="share",
            group="production",
            description="self-generated files / files",
        ),
        Metric("generative_ai_files", FILE, "generative_ai", group="production", description="generative-AI files"),
        Metric(
            "generative_ai_share",
            FILE,
            "generative_ai",
            "files",
            unit="share",
            group="production",
            description="generative-AI files / files",
        ),
        # dissemination
        Metric("viral_files", FILE, "viral", group="dissemination", description="files flagged viral"),
        Metric(
            "viral_share",
            FILE,
            "viral",
            "files",
            unit="share",
            group="dissemination",
            description="viral files / files",
        ),
        Metric(
            "live_streaming_files",
            FILE,
            "live_streaming",
            group="dissemination",
            description="files flagged live-streaming",
        ),
        Metric(
            "reshared_files",
            FILE,
            "files - new_clusters",
            group="dissemination",
            description="file occurrences that are not their media cluster's first sighting (re-shares)",
        ),
        Metric(
            "media_clusters_seen",
            DISTINCT,
            "clusters",
            unit="distinct",
            group="dissemination",
            description="distinct media clusters seen in the period",
        ),
        Metric(
            "reshares_per_cluster",
            DISTINCT,
            "files - new_clusters",
            "clusters",
            unit="ratio",
            kind="per_distinct",
            group="dissemination",
            description="re-shares in the period / distinct media clusters seen in the period",
        ),
        Metric(
            "multi_country_clusters",
            SPREAD,
            "clusters",
            group="dissemination",
            description="media clusters whose second country was first reached in the period",
        ),
        Metric(
            "platform_share",
            REFERRAL,
            "referrals",
            "referrals",
            unit="share",
            group="dissemination",
            kind="mix",
            description="referrals of the platform / referrals of all platforms (platform mix)",
        ),
        # perceptual matching (rollup_perceptual_daily; see "Media matching metrics" above)
        Metric(
            "perceptually_new_files",
            PERCEPTUAL,
            "new_items",
            group="production",
            description="files that are the first sighting of their perceptual cluster (new material, "
            "near-duplicates counted as the same material)",
        ),
        Metric(
            "perceptually_known_files",
            PERCEPTUAL,
            "files - new_items",
            group="production",
            description="files of material seen before, exactly or as a near-duplicate (files - perceptually new files)",
        ),
        Metric(
            "perceptually_new_share",
            PERCEPTUAL,
            "new_items",
            "files",
            unit="share",
            group="production",
            description="perceptually new files / files",
        ),
        Metric(
            "near_duplicate_variants",
            PERCEPTUAL,
            "new_variants",
            group="production",
            description="first sightings of a new exact variant (new MD5/SHA1) of material seen before "
            "(a near-duplicate of an earlier file)",
        ),
        Metric(
            "variants_per_new_item",
            PERCEPTUAL,
            "new_exact_clusters",
            "new_items",
            unit="ratio",
            group="production",
            description="exact variants first seen in the period / perceptually new items first seen in the "
            "period (1 + near-duplicate variants per new item; a flow ratio, not a per-cluster count)",
        ),
        Metric(
            "cross_platform_reshares",
            PERCEPTUAL,
            "cross_platform_reshares",
            group="dissemination",
            description="files of a perceptual cluster seen on a platform other than the one it was first seen on",
        ),
        Metric(
            "cross_platform_reshare_share",
            PERCEPTUAL,
            "cross_platform_reshares",
            "files",
            unit="share",
            group="dissemination",
            description="cross-platform re-shares / files",
        ),
        Metric(
            "cross_country_reshares",
            PERCEPTUAL,
            "cross_country_reshares",
            group="dissemination",
            description="files of a perceptual cluster seen in a country other than the one it was first seen in",
        ),
        Metric(
            "cross_country_reshare_share",
            PERCEPTUAL,
            "cross_country_reshares",
            "files",
            unit="share",
            group="dissemination",
            description="cross-country re-shares / files",
        ),
        Metric(
            "bank_matched_files",
            PERCEPTUAL,
            "bank_matched_files",
            group="dissemination",
            description="files whose media cluster matches an enabled entry of a positive hash bank "
            "(not suppressed by a negative bank); 0 until a bank is imported",
        ),
        Metric(
            "bank_match_share",
            PERCEPTUAL,
            "bank_matched_files",
            "files",
            unit="share",
            group="dissemination",
            description="files matching a positive hash bank / files",
        ),
        # triage (by received date; referrals' current tiers)
        Metric(
            "high_priority_referrals",
            TRIAGE,
            "p1 + p2",
            group="operations",
            description="referrals whose current triage tier is P1 or P2 (by received date)",
        ),
        Metric(
            "high_priority_share",
            TRIAGE,
            "p1 + p2",
            "scored",
            unit="share",
            group="operations",
            description="referrals in tier P1 or P2 / scored referrals (by received date)",
        ),
        # consumption
        Metric(
            "reported_accounts",
            DISTINCT,
            "accounts",
            unit="distinct",
            group="consumption",
            description="distinct pseudonymous accounts reported in the period",
        ),
        Metric(
            "new_reported_accounts",
            REFERRAL,
            "new_accounts",
            group="consumption",
            description="accounts reported for the first time (their first referral)",
        ),
        Metric(
            "repeat_referrals",
            REFERRAL,
            "repeat_reports",
            group="consumption",
            description="referrals whose account was already reported on an earlier referral",
        ),
        Metric(
            "repeat_reporting_share",
            REFERRAL,
            "repeat_reports",
            "with_account",
            unit="share",
            group="consumption",
            description="repeat referrals / referrals with an account pseudonym",
        ),
    )
}

GRAIN_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
_GRAIN_ALIASES = {
    "d": "day",
    "daily": "day",
    "w": "week",
    "weekly": "week",
    "m": "month",
    "monthly": "month",
    "q": "quarter",
    "quarterly": "quarter",
    "y": "year",
    "yearly": "year",
    "annual": "year",
}

REFERRAL_ANNOTATIONS = {
    "sextortion": "has_sextortion",
    "solicitation": "has_solicitation",
    "minor_to_minor": "has_minor_to_minor",
}
FILE_ANNOTATIONS = {
    "viral": "is_viral",
    "self_generated": "is_self_generated",
    "generative_ai": "is_generative_ai",
    "live_streaming": "is_live_streaming",
    "known": "is_known",
}
ANNOTATION = "annotation"

# dimension name -> (table column, which sources have it); annotation is a set of flag columns
DIMENSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "country": ("country_iso3", (REFERRAL, FILE, BACKLOG, SPREAD, DISTINCT, PERCEPTUAL, TRIAGE)),
    "platform": ("platform_name", (REFERRAL, FILE, BACKLOG, DISTINCT, PERCEPTUAL, TRIAGE)),
    "channel": ("channel", (REFERRAL, BACKLOG)),
    "incident_type": ("incident_type_code", (REFERRAL, BACKLOG)),
    "category": ("category_code", (FILE, PERCEPTUAL)),
    ANNOTATION: ("", (REFERRAL, FILE, BACKLOG)),
}
_ANNOTATIONS = {REFERRAL: REFERRAL_ANNOTATIONS, BACKLOG: REFERRAL_ANNOTATIONS, FILE: FILE_ANNOTATIONS}
# the `$list` parameter each filter binds
_FILTER_PARAMS = {
    "country": "countries",
    "platform": "platforms",
    "channel": "channels",
    "incident_type": "incident_types",
    "category": "categories",
    ANNOTATION: "annotations",
}
_TABLES = {
    REFERRAL: "rollup_referral_daily",
    FILE: "rollup_file_daily",
    BACKLOG: "rollup_backlog_daily",
    SPREAD: "rollup_cluster_spread_daily",
    PERCEPTUAL: "rollup_perceptual_daily",
    TRIAGE: "rollup_triage_daily",
    DISTINCT: "(SELECT period_start AS date_key, * EXCLUDE (period_start, grain) "
    "FROM mart_distinct_period WHERE grain = $grain)",
}
_CALENDARS = {
    REFERRAL: "rollup_referral_daily",
    FILE: "rollup_file_daily",
    BACKLOG: "rollup_referral_daily",
    SPREAD: "rollup_referral_daily",
    DISTINCT: "rollup_referral_daily",
    PERCEPTUAL: "rollup_perceptual_daily",
    TRIAGE: "rollup_triage_daily",
}
# Why a source lacks a dimension, when the list of what it has does not say enough.
_MISSING = {
    (PERCEPTUAL, ANNOTATION): "rollup_perceptual_daily carries no annotations",
    (PERCEPTUAL, "channel"): "rollup_perceptual_daily counts files, which have no channel",
    (PERCEPTUAL, "incident_type"): "rollup_perceptual_daily counts files, which have no incident type",
    (TRIAGE, ANNOTATION): "rollup_triage_daily carries no annotations",
    (TRIAGE, "channel"): "rollup_triage_daily is kept by country and platform only",
    (TRIAGE, "incident_type"): "rollup_triage_daily is kept by country and platform only",
}
# the period copy a grain can be summed from (warehouse/period_rollups.py); day reads the daily rollup
_PERIOD_SOURCE_GRAIN = {"week": "week", "month": "month", "quarter": "month", "year": "month"}
_TEMPLATES = {"sum": "series_rollup", "mix": "series_rollup", "stock": "series_stock"}

FilterValue = str | Iterable[str]


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


def check_monthly(metric_name: str, grain: str) -> None:
    """Refuse what a warehouse of monthly releases (a hub's, `warehouse/grain.py`) cannot answer: a grain
    finer than a month (a month's counts sit on its first day) or a metric the releases do not carry."""
    if finer_than(grain, MONTHLY):
        raise SeriesRequestError(
            f"this warehouse holds monthly differentially private releases only: no series by {grain}; "
            "choose month, quarter or year"
        )
    if metric_name not in RELEASED_METRICS:
        raise SeriesRequestError(
            f"metric {metric_name!r} is not in the monthly releases this warehouse holds "
            f"(only {', '.join(RELEASED_METRICS)})"
        )


def dimensions_of(metric_name: str) -> tuple[str, ...]:
    """The dimensions a metric can be filtered and split by."""
    source = metric(metric_name).source
    return tuple(d for d, (_, sources) in DIMENSIONS.items() if source in sources)


def annotations_of(metric_name: str) -> tuple[str, ...]:
    """The annotation names a metric can be filtered and split by (empty when none)."""
    return tuple(_ANNOTATIONS.get(metric(metric_name).source, {}))


def _dimension(name: str, m: Metric, role: str) -> str:
    key = str(name).strip().lower()
    allowed = [d for d, (_, sources) in DIMENSIONS.items() if m.source in sources]
    if key not in allowed:
        why = _MISSING.get((m.source, key))
        raise SeriesRequestError(
            f"cannot {role} metric {m.name!r} by {name!r}{f' ({why})' if why else ''}; choose from {', '.join(allowed)}"
        )
    return key


def _template(name: str) -> str:
    return read_sql(f"analytics/{name}.sql")


def _expression(columns: str) -> str:
    """'a' -> 'r.a'; 'a - b' -> '(r.a - r.b)' (column names from the metric table only)."""
    parts = [f"r.{c.strip()}" for c in columns.split(" - ")]
    return parts[0] if len(parts) == 1 else "(" + " - ".join(parts) + ")"


def _annotation_list(source: str) -> str:
    flags = _ANNOTATIONS[source]
    cases = ", ".join(f"CASE WHEN r.{column} THEN '{name}' END" for name, column in flags.items())
    return f"list_filter([{cases}], lambda a: a IS NOT NULL)"


def _entity(source: str, split: str | None) -> str:
    if split is None:
        return f"'{TOTAL}'"
    if split == ANNOTATION:
        return "r.annotation"
    return f"r.{DIMENSIONS[split][0]}"


def _rollup_table(source: str, grain: str) -> str:
    """The table a source is read from at `grain`: the weekly or monthly copy of a daily rollup when one
    exists (`warehouse.period_rollups`; quarters and years sum whole months), else the daily one."""
    table = _TABLES[source]
    coarse = _PERIOD_SOURCE_GRAIN.get(grain)
    if coarse and table in PERIOD_ROLLUPS:
        return period_table(table, coarse)
    return table


def _table(source: str, split: str | None, grain: str) -> str:
    """The table read; split by annotation, one copy of each row per annotation it carries."""
    table = _rollup_table(source, grain)
    if split != ANNOTATION:
        return table
    return (
        "("
        + " UNION ALL ".join(
            f"SELECT *, '{name}' AS annotation FROM {table} WHERE {column}"
            for name, column in _ANNOTATIONS[source].items()
        )
        + ")"
    )


def _filters(m: Metric, split: str | None) -> tuple[str, dict[str, str]]:
    """The filter conditions of the query and, per dimension, the parameter each binds."""
    lines, params = [], {}
    for dim, (column, sources) in DIMENSIONS.items():
        if m.source not in sources:
            continue
        param = _FILTER_PARAMS[dim]
        params[dim] = param
        if m.source == DISTINCT:
            if dim == split:
                lines.append(
                    f"AND r.{column} <> '{ALL}' AND (len(CAST(${param} AS VARCHAR[])) = 0 "
                    f"OR list_contains(CAST(${param} AS VARCHAR[]), r.{column}))"
                )
            else:  # the mart's pre-aggregated cell: one value, or '*' for all
                lines.append(f"AND r.{column} = coalesce(CAST(${param} AS VARCHAR[])[1], '{ALL}')")
        elif dim == ANNOTATION:
            lines.append(
                f"AND (len(CAST(${param} AS VARCHAR[])) = 0 "
                f"OR list_has_any(CAST(${param} AS VARCHAR[]), {_annotation_list(m.source)}))"
            )
        else:
            lines.append(
                f"AND (len(CAST(${param} AS VARCHAR[])) = 0 OR list_contains(CAST(${param} AS VARCHAR[]), r.{column}))"
            )
    return "\n      ".join(lines), params


def _measure_lists(measures: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The rollup template's three measure lists for (column name, expression) pairs."""
    return {
        "{day_sums}": ",\n        ".join(f"sum({expression}) AS {name}" for name, expression in measures),
        "{period_sums}": ", ".join(f"sum(d.{name}) AS {name}" for name, _ in measures),
        "{final_measures}": ",\n    ".join(f"CAST(coalesce(t.{name}, 0) AS DOUBLE) AS {name}" for name, _ in measures),
    }


def series_sql(
    m: Metric, split: str | None, grain: str = "day", measures: Sequence[tuple[str, str]] | None = None
) -> str:
    """The query text for a metric and split, identifiers filled in from the allow-lists only. `measures`
    ((column, expression) pairs of the rollup template) replaces the metric's numerator and denominator."""
    filters, _ = _filters(m, split)
    denominator = _expression(m.denominator) if m.denominator and m.kind != "mix" else "0"
    text = (
        _template(_TEMPLATES[m.kind])
        .replace("{calendar}", _CALENDARS[m.source])
        .replace("{rollup}", _table(m.source, split, grain))
        .replace("{numerator}", _expression(m.numerator))
        .replace("{entity}", _entity(m.source, split))
        .replace("{dimension_filters}", filters)
    )
    for placeholder, listed in _measure_lists(
        measures or (("numerator", _expression(m.numerator)), ("denominator", denominator))
    ).items():
        text = text.replace(placeholder, listed)
    return text


def _bound_filters(m: Metric, filters: Mapping[str, FilterValue] | None, split: str | None) -> dict:
    """Filter values per parameter (sorted, unique), checked against what the metric supports."""
    _, params = _filters(m, split)
    bound: dict[str, object] = {param: [] for param in params.values()}
    for name, value in (filters or {}).items():
        key = _dimension(name, m, "filter")
        values = sorted({value} if isinstance(value, str) else {str(v) for v in value})
        if key == ANNOTATION:
            unknown = [v for v in values if v not in _ANNOTATIONS[m.source]]
            if unknown:
                raise SeriesRequestError(
                    f"metric {m.name!r} has no annotation {', '.join(map(repr, unknown))}; "
                    f"choose from {', '.join(_ANNOTATIONS[m.source])}"
                )
        if m.source == DISTINCT and key != split and len(values) > 1:
            raise SeriesRequestError(
                f"metric {m.name!r} counts distinct items, so it can be filtered by one "
                f"{key} at a time (or split by {key}), not by {len(values)}"
            )
        bound[params[key]] = values
    if m.source == DISTINCT:
        used = sorted({key for key, param in params.items() if bound[param]} | ({split} if split else set()))
        if len(used) > 1:
            raise SeriesRequestError(
                f"metric {m.name!r} counts distinct items per country or per platform: "
                f"use one of {' and '.join(used)}, not both"
            )
    return bound


def _run(
    con: duckdb.DuckDBPyConnection, m: Metric, grain: str, bound: dict, split: str | None, drop_partial: bool
) -> pd.DataFrame:
    parameters = dict(bound, grain=grain, drop_partial=bool(drop_partial), split=split is not None)
    table = con.execute(series_sql(m, split, grain), parameters).df()
    table["ds"] = pd.to_datetime(table["ds"])
    return table


def _per_distinct(
    con, m: Metric, grain: str, selection: dict, bound: dict, split: str | None, drop_partial: bool
) -> pd.DataFrame:
    """Numerator summed from the file rollup, denominator the mart's distinct count, one calendar."""
    if m.denominator is None:
        raise ValueError(f"per-distinct metric {m.name!r} has no denominator (the distinct count)")
    distinct = _run(
        con, replace(m, numerator=m.denominator, denominator=None, kind="sum"), grain, bound, split, drop_partial
    )
    files = replace(m, source=FILE, denominator=None, kind="sum")
    numerator = _run(con, files, grain, _bound_filters(files, selection, split), split, drop_partial)
    keys = ["ds", "entity"]
    out = (
        distinct[[*keys, "numerator"]]
        .rename(columns={"numerator": "denominator"})
        .merge(numerator[[*keys, "numerator"]], on=keys, how="left")
    )
    out["numerator"] = out["numerator"].fillna(0.0)
    return out


def _finished(table: pd.DataFrame, m: Metric, grain: str, split: str | None, parts: bool) -> pd.DataFrame:
    """A query's (ds, entity, numerator, denominator) rows as `load_series` returns them: y computed (a ratio is
    0 where its denominator is), the columns asked for, sorted, and the metric described in `attrs`."""
    num = table["numerator"].to_numpy(dtype=float)
    if m.is_ratio:
        den = table["denominator"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    else:
        y = num
    table["y"] = y
    columns = ["ds", "y"] + (["entity"] if split else []) + (["numerator", "denominator"] if parts else [])
    out = table[columns].sort_values((["entity"] if split else []) + ["ds"], kind="stable").reset_index(drop=True)
    out.attrs.update(metric=m.name, grain=grain, split=split, unit=m.unit)
    return out


def load_series_group(
    con: duckdb.DuckDBPyConnection,
    metric_names: Sequence[str],
    grain: str = "month",
    filters: Mapping[str, FilterValue] | None = None,
    drop_partial: bool = True,
) -> dict[str, pd.DataFrame]:
    """Several summed metrics of one rollup for the same filters, read in one query (one scan, one calendar):
    per metric name, the frame `load_series(con, name, grain, filters, parts=True)` returns. For a chart that
    draws two metrics of one source, e.g. the self-generated and the generative-AI shares of files.

    Raises `SeriesRequestError` for metrics of different sources or of another kind than 'sum' (stocks, the
    platform mix, per-distinct ratios), and for anything `load_series` refuses."""
    ms = [metric(name) for name in dict.fromkeys(metric_names)]
    if not ms:
        return {}
    if len({m.source for m in ms}) > 1 or any(m.kind != "sum" for m in ms):
        raise SeriesRequestError(
            "one query reads summed metrics of one rollup; "
            + ", ".join(f"{m.name!r} is {m.kind} of {m.source}" for m in ms)
        )
    grain = grain_name(grain)
    if is_monthly(con):
        for m in ms:
            check_monthly(m.name, grain)
    bound, *_ = [_bound_filters(m, filters, None) for m in ms]  # each metric checks the filters
    expressions = list(
        dict.fromkeys(
            e for m in ms for e in (_expression(m.numerator), m.denominator and _expression(m.denominator)) if e
        )
    )
    column = {expression: f"measure_{i}" for i, expression in enumerate(expressions)}
    sql = series_sql(ms[0], None, grain, measures=[(column[e], e) for e in expressions])
    table = con.execute(sql, dict(bound, grain=grain, drop_partial=bool(drop_partial), split=False)).df()
    table["ds"] = pd.to_datetime(table["ds"])
    out = {}
    for m in ms:
        denominator = table[column[_expression(m.denominator)]] if m.denominator else 0.0
        part = table[["ds", "entity"]].assign(
            numerator=table[column[_expression(m.numerator)]], denominator=denominator
        )
        out[m.name] = _finished(part, m, grain, None, parts=True)
    return out


def load_series(
    con: duckdb.DuckDBPyConnection,
    metric_name: str,
    grain: str = "month",
    filters: Mapping[str, FilterValue] | None = None,
    split: str | None = None,
    drop_partial: bool = True,
    parts: bool = False,
    per_capita: bool = False,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One metric per period (per entity of `split`), calendar-complete with explicit zeros.

    filters: dimension -> value or list of values (e.g. {"country": ["DEU", "FRA"]}); dimensions
        are country, platform, annotation, and channel / incident_type (referral metrics) or
        category (file metrics); `dimensions_of(metric)` lists them. An empty list means no filter.
    split: None (one series) or a dimension: one series per entity with data in the selection.
    per_capita: counts per 100,000 inhabitants (count, stock and distinct metrics only); see the
        module docstring. `population` overrides the shipped reference table (tests).
    Returns columns ds, y[, entity][, numerator, denominator], sorted by entity then ds; an
    unknown or unsupported metric, grain, filter, split or option raises `SeriesRequestError`.
    """
    m = metric(metric_name)
    grain = grain_name(grain)
    if is_monthly(con):
        check_monthly(m.name, grain)
    split_key = _dimension(split, m, "split") if split is not None else None
    if m.kind == "mix" and split_key != "platform" and not (filters or {}).get("platform"):
        raise SeriesRequestError(f"metric {m.name!r} is the platform mix: split by platform or filter platforms")
    if per_capita and m.unit not in ("count", "stock", "distinct"):
        raise SeriesRequestError(f"per-capita rates apply to counts, not to metric {m.name!r} ({m.unit})")
    selection = dict(filters or {})
    eu_only = per_capita and split_key != "country" and not selection.get("country")
    if eu_only:
        if m.source == DISTINCT:
            raise SeriesRequestError(
                f"metric {m.name!r} per capita needs a country filter or a split by country "
                "(distinct counts of the EU-27 alone are not materialised)"
            )
        selection["country"] = list(EU27_ISO3)
    bound = _bound_filters(m, selection, split_key)
    if m.kind == "per_distinct":
        table = _per_distinct(con, m, grain, selection, bound, split_key, drop_partial)
    else:
        table = _run(con, m, grain, bound, split_key, drop_partial)
    if m.kind == "mix":
        whole = dict(bound, platforms=[])
        totals = _run(con, m, grain, whole, None, drop_partial)[["ds", "numerator"]]
        table = table.drop(columns="denominator").merge(
            totals.rename(columns={"numerator": "denominator"}), on="ds", how="left"
        )
    out = _finished(table, m, grain, split_key, parts)
    if per_capita:
        from analytics.population import per_capita as rates

        countries = None if eu_only else selection.get("country")
        countries = [countries] if isinstance(countries, str) else countries
        out = rates(out, countries, population=population).frame
    return out
