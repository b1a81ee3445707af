"""The kinds of finding `grace analyse` states, registered once: label, ranking weight, the detector that
produces it, the table its rows come from, and whether the Alerts page lists it as an alert.

The narrative (`narrative.py`) ranks, deduplicates and attributes findings from this registry, and the
Alerts page takes its kinds and labels from it; a new detector's kind is one entry here (its detector
and tables are registered in `analytics.detectors`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FindingKind:
    name: str
    label: str  # as a table cell or a filter option
    weight: float  # the kind's weight in a finding's importance score
    detector: str  # recorded with every finding of the kind
    source_table: str  # the analytics table its result rows live in
    alert: bool = False  # listed (and filterable) on the Alerts page
    # When a lower-ranked finding about the same metric and entity says the same thing (it is dropped):
    # "subject": any other finding of this kind; "period": one at another grain, same direction and
    # overlapping periods; "period±1": the same give or take one period of the coarser grain (a break is
    # located only that well); "trend": any growth or trend finding (they state the same movement).
    duplicates: str = "subject"


# In ranking order: two findings with the same score are listed in this order of their kinds.
FINDING_KINDS = (
    FindingKind("changepoint", "Change point", 1.0, "changepoints", "analytics_changepoint", True, "period±1"),
    FindingKind("growth", "Growth", 0.9, "year_on_year_growth", "analytics_trend", duplicates="trend"),
    FindingKind("trend", "Trend", 0.9, "mann_kendall_sen", "analytics_trend", duplicates="trend"),
    FindingKind("emerging", "Emerging", 0.9, "entity_status", "analytics_entity_status", alert=True),
    FindingKind("vanishing", "Vanishing", 0.9, "entity_status", "analytics_entity_status", alert=True),
    FindingKind("anomaly", "Anomaly", 0.8, "anomalies_robust_z", "analytics_anomaly", True, "period"),
    FindingKind("backlog", "Backlog", 0.7, "backlog_projection", "analytics_backlog"),
    FindingKind("forecast", "Forecast", 0.6, "forecast_backtested", "analytics_forecast"),
    # The active triage model's drift (analytics.model_monitoring): alerts only, never a narrative finding.
    FindingKind("drift", "Model drift", 0.5, "triage_model_monitoring", "analytics_model_monitor", alert=True),
)
KINDS = {kind.name: kind for kind in FINDING_KINDS}
KIND_RANK = {kind.name: rank for rank, kind in enumerate(FINDING_KINDS)}
ALERT_KINDS = tuple(kind.name for kind in FINDING_KINDS if kind.alert)
