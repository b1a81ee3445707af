"""What a report can say on a hub warehouse of merged differentially private releases, and how it checks it.

A hub warehouse (`federation/hub_warehouse.py`) holds per month × country × platform the agencies' noisy
referral counts, dated on each month's first day (`warehouse/grain.py`): no day or week, and no measure
but referrals. A report run on it therefore
- covers whole months (a weekly definition reports the last complete month instead, and says so);
- leaves out, with one stated line per section, every key figure, outlook, capacity figure, comparison and
  chart whose data the releases do not carry — never a crash, never a zero standing for "not released";
- checks each number written from the rollup against a second, independent path: the release cells
  themselves (`dp_release_cell`, named query `report_release_monthly`), in place of the daily series an
  ordinary warehouse is checked on. A release cell an agency suppressed counts nowhere on either path.
The DP marking (ε, δ, k, suppressed cells) reaches the report through `dashboards.freshness.data_freshness`,
the same line every page header and export of the hub carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from analytics.warehouse_series import load_series
from dashboards.charts import Chart
from dashboards.state import ViewState
from grace.vocabulary import metric_label
from reporting.model import Sentence
from reporting.queries import run_named
from warehouse.grain import MONTHLY, RELEASED_METRICS, finer_than

NOT_RELEASED = "not in the differentially private releases"
SOURCE = "hub warehouse: differentially private releases"
HUB_SOURCE = "EU hub warehouse: the agencies' differentially private monthly releases (dp_release lineage)"
# the dimensions a release cell has: the only filters the release path can apply
RELEASE_FILTERS = {"country": "countries", "platform": "platforms"}


class NotCheckable(Exception):
    """The release cells cannot recompute this series (a metric or filter the releases do not carry)."""


def released(metric: str) -> bool:
    """True when the releases carry `metric` (referrals and the platform shares derived from them)."""
    return metric in RELEASED_METRICS


def report_sources(sources: Sequence[str], monthly: bool) -> tuple[str, ...]:
    """A run's sources: on a hub the releases first, in place of the definition's ETL warehouse line."""
    if not monthly:
        return tuple(sources)
    return (HUB_SOURCE, *(source for source in sources if not source.startswith("GRACE warehouse")))


def report_grain(grain: str, monthly: bool) -> str:
    """The period grain a run uses: a week of a monthly warehouse would be a fiction, so it becomes a month."""
    return MONTHLY if monthly and finer_than(grain, MONTHLY) else grain


def grain_note(asked: str, used: str) -> str:
    """Why the period is a month when the definition asked for a week ('' when nothing changed)."""
    if asked == used:
        return ""
    return f"a whole month: the differentially private releases are monthly, so no {asked} can be reported"


def left_out(items: Sequence[str]) -> Sentence | None:
    """One stated line naming what a section leaves out on a hub (None: nothing left out)."""
    if not items:
        return None
    names = ", ".join(dict.fromkeys(items))
    return Sentence(f"Left out, {NOT_RELEASED}: {names}.", source=SOURCE)


def metric_name(metric: str) -> str:
    """A metric's name in a left-out line ('actionable referrals')."""
    return metric_label(metric)


def chart_view(chart: Chart, query: str) -> ViewState | None:
    """The view a hub report draws `chart` with (a finer grain raised to a month), or None when the chart or
    the metrics its view asks for are not in the releases."""
    if not chart.on_hub:
        return None
    asked = ViewState.from_query(query)
    if not released(asked.metric) or (asked.compare is not None and not released(asked.compare)):
        return None
    if finer_than(asked.grain, MONTHLY):
        return asked.with_changes(grain=MONTHLY)
    return asked


def release_series(con: duckdb.DuckDBPyConnection, filters: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Referrals per month (`ds`, `y`) summed from the release cells the agencies showed, for the filters
    (country and platform only); `NotCheckable` for any other filter."""
    bound: dict[str, list[str]] = {"countries": [], "platforms": []}
    for key, values in filters.items():
        if key not in RELEASE_FILTERS:
            raise NotCheckable(f"the releases carry no {key!r}")
        bound[RELEASE_FILTERS[key]] = [values] if isinstance(values, str) else list(values)
    found = run_named(con, "report_release_monthly", **bound)
    found["ds"] = pd.to_datetime(found["ds"])
    return found


def check_series(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    filters: Mapping[str, Sequence[str]],
    monthly: bool,
    parts: bool = False,
) -> pd.DataFrame:
    """The series a report's numbers are checked on: the daily series of an ordinary warehouse, or on a hub
    the release cells summed per month (referrals only; `NotCheckable` otherwise)."""
    if not monthly:
        return load_series(con, metric, "day", filters=dict(filters), drop_partial=False, parts=parts)
    if metric != "referrals" or parts:
        raise NotCheckable(f"{metric!r} cannot be recomputed from the release cells")
    return release_series(con, filters)
