"""The active triage model's monitoring in `grace analyse`: stored per run, drifted weeks raised as alerts.

When a model is active, `monitoring_rows` runs `classification.monitoring.monitor_model` over the features
of every referral received since the model's training window started (read live from the warehouse, as
scoring does) and turns its frames into rows of `analytics_model_monitor` (one long table: measure,
feature, value, noise, referrals, drifted; see `sql/ddl/002_analytics.sql`). No active model: no rows.

`drift_alerts` turns the drifted weeks of the latest `ALERT_WEEKS` weeks of data into rows of
`analytics_alert` of kind `drift` — one per (feature or score, week) — so the Alerts page is not flooded
by history (every week stays in `analytics_model_monitor`). Their shape:

- series: `high_priority_share|week|none|total` (`DRIFT_SERIES`), the weekly EU-wide share of scored
  referrals in tier P1/P2 — the score's own series, which the Alerts page links to and draws. The model is
  trained on every country, so its drift is EU-wide: `split_by` 'none' hides the alerts from a
  country-scoped user (`sql/queries/analytics_alerts.sql` keeps only country splits for them), and a
  scoped user cannot review them either (the key's series is the EU total);
- which weeks: sudden shifts of a feature or the score (each week against the 12 before it) and drift of
  the score against the model's test window (`ALERTING`); a feature's drift against the training window
  is stored, not alerted (slow trends would raise it every week);
- `subject`: the feature, or 'score', with ' (sudden shift)' for a shift; `before`: the PSI expected by
  chance; `after`: the PSI;
  `relative`: after / before - 1; `strength`: PSI / (threshold + noise), above 1 by construction;
- `alert_key`: `high_priority_share|week|none|total|drift:<model version>:[shift:]<feature or score>|<week>`: the same in
  every run for one model, so reviews outlive runs, and a new model's drift is new;
- `material`: True (the week passed the threshold plus the noise); `is_new` as for every alert, against
  the drift alerts of the latest earlier run that monitored a model (`sql/analytics/previous_alert_keys.sql`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from classification.monitoring import DriftParams, Monitoring, monitor_model
from grace.vocabulary import NO_SPLIT, TOTAL, SeriesId

MONITOR_TABLE = "analytics_model_monitor"
ALERT_WEEKS = 13  # drift alerts for the latest 13 weeks of data (a quarter)
DRIFT_SERIES = SeriesId("high_priority_share", "week", NO_SPLIT, TOTAL)
SCORE_SUBJECT = "score"
SHIFT_SUFFIX = " (sudden shift)"


def monitoring_rows(
    con: duckdb.DuckDBPyConnection, params: DriftParams, reviews: pd.DataFrame | None = None
) -> tuple[str | None, list[dict]]:
    """(active model version or None, rows of `analytics_model_monitor` without run_id)."""
    from classification import registry
    from classification.features import referral_features

    version = registry.active_version(con)
    if version is None:
        return None, []
    model = registry.load(con, version)
    windows = registry.card(con, version).get("windows")
    if not windows:
        raise registry.RegistryError(f"{version}: its model card has no training windows to monitor against")
    frame = referral_features(con, start=date.fromisoformat(windows["start"]))
    return version, rows_of(version, monitor_model(model, frame, windows, params=params, reviews=reviews))


def rows_of(version: str, found: Monitoring) -> list[dict]:
    """The long rows of one model's monitoring."""
    rows: list[dict] = []

    def add(week, measure, feature, value, noise, referrals, drifted) -> None:
        rows.append(
            {
                "model_version": version,
                "week": week,
                "measure": measure,
                "feature": feature,
                "value": _number(value),
                "noise": _number(noise),
                "referrals": int(referrals),
                "drifted": drifted,
            }
        )

    for r in found.drift.itertuples(index=False):
        add(r.week, r.measure, r.feature or None, r.value, r.noise, r.referrals, bool(r.drifted))
    for r in found.calibration.itertuples(index=False):
        for measure in ("ece", "predicted", "observed"):
            add(r.week, measure, None, getattr(r, measure), None, r.labelled, None)
    for r in found.reviewed.itertuples(index=False):
        add(r.week, "ece_reviewed", None, r.ece, None, r.labelled, None)
    for r in found.reliability.itertuples(index=False):
        label = f"{r.bin / 10:.1f}-{(r.bin + 1) / 10:.1f}"
        add(r.quarter, "reliability_predicted", label, r.predicted, None, r.count, None)
        add(r.quarter, "reliability_observed", label, r.observed, None, r.count, None)
    return rows


# The measures that raise alerts, and what their subject says. Against the training window only the score:
# there every slowly trending feature (a platform mix moving year on year) stays drifted week after week,
# which belongs in the monitor table, not in a flood of alerts; a feature raises an alert when it shifts
# against the 12 weeks before (a step change, in its first full week).
ALERTING = {"score_psi": "", "feature_shift": SHIFT_SUFFIX, "score_shift": SHIFT_SUFFIX}


def drift_alerts(rows: list[dict], params: DriftParams, weeks: int = ALERT_WEEKS) -> list[dict[str, Any]]:
    """Alert rows (without run_id, material set, `is_new` left to `analytics.alerting.mark_alerts`) for the
    drifted feature and score weeks among the latest `weeks` weeks of PSI rows."""
    psi = [r for r in rows if r["measure"] in ALERTING]
    if not psi:
        return []
    first = max(_day(r["week"]) for r in psi) - timedelta(weeks=weeks - 1)
    out = []
    for r in psi:
        if not r["drifted"] or _day(r["week"]) < first:
            continue
        subject = (r["feature"] or SCORE_SUBJECT) + ALERTING[r["measure"]]
        code = ("shift:" if r["measure"].endswith("_shift") else "") + (r["feature"] or SCORE_SUBJECT)
        value, noise = float(r["value"]), float(r["noise"])
        day = _day(r["week"])
        out.append(
            {
                "series_id": DRIFT_SERIES.text,
                "metric": DRIFT_SERIES.metric,
                "grain": DRIFT_SERIES.grain,
                "split_by": DRIFT_SERIES.split_by,
                "entity": DRIFT_SERIES.entity,
                "kind": "drift",
                "date": day,
                "direction": "up",
                "before": noise,
                "after": value,
                "relative": value / noise - 1 if noise > 0 else None,
                "strength": value / (params.threshold + noise) if params.threshold + noise > 0 else None,
                "alert_key": f"{DRIFT_SERIES.text}|drift:{r['model_version']}:{code}|{day.isoformat()}",
                "material": True,
                "subject": subject,
            }
        )
    return sorted(out, key=lambda a: (a["date"], a["subject"]))


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()


def _number(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return number if np.isfinite(number) else None
