"""Which alerts deserve attention: the materiality rule and "new since the previous run".

`grace analyse` finds every statistically unusual movement; many are small (a country's weekly count
moving from 3 to 6 is a 100 % anomaly). Each alert row of a run (`analytics.detectors.alert_rows`) is
marked here before it is stored in `analytics_alert`:

- `material`: the rule of `analytics.results.AlertParams` (relative change and absolute change, the
  absolute threshold by the metric's unit), recorded with the run's parameters — unless the row comes
  material by construction (a model-drift alert passed its threshold plus the noise: `material` set);
- `is_new`: its key (series | kind | date) was not among the alerts of the latest earlier run of the
  same series (`sql/analytics/previous_alert_keys.sql`); a series analysed for the first time has only
  new alerts.

What an analyst has acknowledged or dismissed is not here: it is per user, in the dashboard's store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from analytics.results import AlertParams
from analytics.warehouse_series import METRICS
from warehouse import read_sql

COUNT_UNITS = ("count", "stock", "distinct")
SHARE_UNITS = ("share", "ratio")


def relative_change(before: Any, after: Any) -> float | None:
    """|after / before - 1|, 1 from or to zero, None when either side is unknown."""
    if before is None or after is None:
        return None
    b, a = float(before), float(after)
    if not (math.isfinite(a) and math.isfinite(b)):
        return None
    if b == 0 or a == 0:
        return 0.0 if a == b else 1.0
    return abs(a / b - 1.0)


def is_material(metric: str, before: Any, after: Any, params: AlertParams) -> bool:
    """The materiality rule (see `AlertParams`) for one alert of `metric`."""
    relative = relative_change(before, after)
    if relative is None or relative < params.min_relative:
        return False
    unit = METRICS[metric].unit if metric in METRICS else "count"
    change = abs(float(after) - float(before))
    if unit in COUNT_UNITS:
        return change >= params.min_count_change
    if unit in SHARE_UNITS:
        return change >= params.min_share_change
    return True


def previous_alert_keys(con) -> frozenset[str]:
    """The keys of the alerts of each series' latest stored run (read before a new run is written)."""
    return frozenset(key for (key,) in con.execute(read_sql("analytics/previous_alert_keys.sql")).fetchall())


def mark_alerts(rows: Iterable[dict], params: AlertParams, previous: frozenset[str]) -> list[dict]:
    """The alert rows with `material` and `is_new` set."""
    return [
        {
            **row,
            "material": (
                bool(row["material"])
                if row.get("material") is not None
                else is_material(row["metric"], row["before"], row["after"], params)
            ),
            "is_new": row["alert_key"] not in previous,
        }
        for row in rows
    ]
