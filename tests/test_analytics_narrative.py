"""Narrative findings from crafted result rows: wording, numbers, ranking and deduplication."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date

import pytest

from analytics.narrative import (
    build_findings,
    finding_rows,
    format_count,
    format_percent,
    magnitude,
    period_label,
    rank,
)

PARAMS = json.dumps({"recent_periods": 3, "baseline_periods": 12})


def trend_row(
    metric="referrals",
    grain="month",
    split="platform",
    entity="X",
    total=1000.0,
    yoy=(2.3, 1.8, 2.8),
    direction="increasing",
    p_value=0.001,
    slope=5.0,
    relative_slope=0.02,
):
    g, lo, hi = yoy if yoy else (None, None, None)
    return {
        "series_id": f"{metric}|{grain}|{split}|{entity}",
        "metric": metric,
        "grain": grain,
        "split_by": split,
        "entity": entity,
        "start_date": date(2023, 1, 1),
        "end_date": date(2024, 12, 1),
        "points": 24,
        "total": total,
        "direction": direction,
        "slope": slope,
        "relative_slope": relative_slope,
        "p_value": p_value,
        "test": "Mann-Kendall (Hamed-Rao)",
        "yoy_growth": g,
        "yoy_lower": lo,
        "yoy_upper": hi,
    }


def break_row(
    metric="referrals",
    grain="month",
    split="country",
    entity="DEU",
    day=date(2024, 3, 1),
    before=1200.0,
    after=600.0,
    confidence=0.99,
):
    return {
        "series_id": f"{metric}|{grain}|{split}|{entity}",
        "metric": metric,
        "grain": grain,
        "split_by": split,
        "entity": entity,
        "date": day,
        "level_before": before,
        "level_after": after,
        "magnitude": after - before,
        "relative_change": after / before - 1,
        "direction": "up" if after > before else "down",
        "confidence": confidence,
    }


def anomaly_row(
    metric="files",
    grain="week",
    split="none",
    entity="total",
    day=date(2024, 3, 18),
    value=3456.0,
    expected=1234.0,
    score=8.0,
):
    return {
        "series_id": f"{metric}|{grain}|{split}|{entity}",
        "metric": metric,
        "grain": grain,
        "split_by": split,
        "entity": entity,
        "date": day,
        "value": value,
        "expected": expected,
        "magnitude": value - expected,
        "relative": value / expected - 1,
        "direction": "spike" if value > expected else "dip",
        "score": score,
    }


def test_numbers_are_formatted_with_separators_signs_and_period_labels():
    assert format_percent(2.3) == "230 %"
    assert format_percent(-0.054, signed=True) == "-5.4 %"
    assert format_percent(12.345, signed=True) == "+1,234 %"
    assert format_percent(0.0004) == "0.04 %"
    assert format_percent(-1.4, signed=True, floor=-1.0) == "-100 %"
    assert format_count(12345.6) == "12,346" and format_count(12.34) == "12.3" and format_count(0.0421) == "0.042"
    assert period_label(date(2024, 3, 18), "week") == "2024-W12"
    assert period_label(date(2024, 12, 30), "week") == "2025-W01"  # ISO year, not calendar year
    assert period_label(date(2024, 3, 1), "month") == "2024-03"
    assert period_label(date(2024, 4, 1), "quarter") == "2024-Q2"
    assert period_label(date(2024, 1, 1), "year") == "2024"


def test_magnitude_weighs_doubling_and_halving_alike_and_caps_at_one():
    assert magnitude(2.0) == pytest.approx(0.5) == magnitude(0.5)
    assert magnitude(1.0) == 0.0
    assert magnitude(0.0) == 1.0 and magnitude(None) == 1.0


def test_year_on_year_growth_is_worded_with_its_confidence_interval():
    [finding] = build_findings({"analytics_trend": [trend_row()]})
    assert finding.kind == "growth" and finding.detector == "year_on_year_growth"
    assert finding.headline == (
        "Referrals from platform X rose 230 % year on year (the 12 months to 2024-12 vs the "
        "12 before; 90 % CI +180 % to +280 %)"
    )
    assert finding.numbers["growth"] == 2.3 and finding.source_table == "analytics_trend"


def test_growth_whose_interval_includes_zero_falls_back_to_a_significant_mann_kendall_trend():
    row = trend_row(
        split="country",
        entity="FRA",
        yoy=(0.1, -0.05, 0.25),
        slope=-3.26,
        relative_slope=-0.01,
        direction="decreasing",
        p_value=0.0123,
    )
    [finding] = build_findings({"analytics_trend": [row]})
    assert finding.kind == "trend"
    assert finding.headline == (
        "Referrals in FRA: decreasing trend of -3.3 per month (Sen's slope; -12 % a year; Mann-Kendall p = 0.012)"
    )
    assert build_findings({"analytics_trend": [{**row, "direction": "no trend"}]}) == []


def test_a_structural_break_names_period_levels_and_change():
    [finding] = build_findings({"analytics_changepoint": [break_row()]})
    assert finding.headline == (
        "A structural break in referrals in DEU in 2024-03: level fell from 1,200 to 600 per month (-50 %)"
    )
    share = break_row(metric="self_generated_share", split="none", entity="total", before=0.12, after=0.185)
    [finding] = build_findings({"analytics_changepoint": [share]})
    assert finding.headline == (
        "A structural break in self-generated share (EU total) in 2024-03: level rose from 12 % to 18 % (+54 %)"
    )


def test_a_spike_of_the_total_says_which_platform_explains_it():
    attribution = [
        {
            "series_id": "files|week|none|total",
            "date": date(2024, 3, 18),
            "by_dimension": "platform",
            "rank": 1,
            "contributor": "Y",
            "value": 1800.0,
            "expected": 420.0,
            "excess": 1380.0,
            "share": 0.62,
        },
        {
            "series_id": "files|week|none|total",
            "date": date(2024, 3, 18),
            "by_dimension": "country",
            "rank": 1,
            "contributor": "DEU",
            "value": 900.0,
            "expected": 500.0,
            "excess": 400.0,
            "share": 0.18,
        },
    ]
    [finding] = build_findings({"analytics_anomaly": [anomaly_row()], "analytics_attribution": attribution})
    assert finding.headline == (
        "Spike in files (EU total) in week 2024-W12: 3,456 vs 1,234 expected (+180 %), "
        "mostly explained by platform Y (62 % of the excess)"
    )
    assert [a["entity"] for a in finding.numbers["attribution"]] == ["Y", "DEU"]
    [alone] = build_findings({"analytics_anomaly": [anomaly_row()], "analytics_attribution": attribution[1:]})
    assert alone.headline.endswith("largest contributor: DEU (18 % of the excess)")


def test_emerging_and_vanishing_entities_are_worded_with_both_windows():
    base = {
        "metric": "referrals",
        "grain": "month",
        "split_by": "platform",
        "baseline_start": date(2023, 10, 1),
        "baseline_end": date(2024, 9, 1),
        "recent_start": date(2024, 10, 1),
        "recent_end": date(2024, 12, 1),
        "parameters": PARAMS,
    }
    rows = [
        {
            **base,
            "series_id": "referrals|month|platform|Z",
            "entity": "Z",
            "status": "emerging",
            "baseline_mean": 2.5,
            "recent_mean": 40.0,
            "growth": 15.0,
            "baseline_share": 0.01,
            "recent_share": 0.09,
        },
        {
            **base,
            "series_id": "referrals|month|platform|Q",
            "entity": "Q",
            "status": "vanishing",
            "baseline_mean": 120.0,
            "recent_mean": 0.3,
            "growth": -0.9975,
            "baseline_share": 0.2,
            "recent_share": 0.001,
        },
        {
            **base,
            "series_id": "referrals|month|platform|S",
            "entity": "S",
            "status": "stable",
            "baseline_mean": 50.0,
            "recent_mean": 51.0,
            "growth": 0.02,
            "baseline_share": 0.1,
            "recent_share": 0.1,
        },
    ]
    found = {f.entity: f for f in build_findings({"analytics_entity_status": rows})}
    assert set(found) == {"Z", "Q"}
    assert found["Z"].headline == (
        "Platform Z is emerging in referrals: 40 per month over the last 3 months "
        "(2024-10 to 2024-12) vs 2.5 per month in the 12 months before (+1,500 %)"
    )
    assert found["Q"].headline == (
        "Platform Q is vanishing from referrals: 0.3 per month over the last 3 months "
        "(2024-10 to 2024-12) vs 120 per month in the 12 months before (-100 %)"
    )


def test_the_eu_total_ranks_above_a_single_country_with_the_same_change():
    rows = [
        break_row(split="none", entity="total"),
        break_row(split="country", entity="DEU"),
        break_row(split="country", entity="FRA", day=date(2023, 6, 1), before=100.0, after=50.0),
    ]
    trend = [
        trend_row(split="country", entity="DEU", total=900.0, yoy=None, direction="no trend"),
        trend_row(split="country", entity="FRA", total=100.0, yoy=None, direction="no trend"),
    ]
    ranked = build_findings({"analytics_changepoint": rows, "analytics_trend": trend})
    assert [f.entity for f in ranked] == ["total", "DEU", "FRA"]
    assert ranked[1].reach == pytest.approx(0.9**0.5) and ranked[2].reach == pytest.approx(0.1**0.5)
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_larger_and_surer_changes_rank_first():
    big = break_row(entity="total", split="none", before=1000.0, after=200.0)
    small = break_row(entity="total", split="none", metric="files", before=1000.0, after=800.0)
    unsure = break_row(entity="total", split="none", metric="viral_files", before=1000.0, after=200.0, confidence=0.5)
    ranked = build_findings({"analytics_changepoint": [small, unsure, big]})
    assert [f.metric for f in ranked] == ["referrals", "viral_files", "files"]


def test_the_same_finding_at_another_grain_is_kept_once_with_the_higher_score():
    monthly = break_row(split="none", entity="total", day=date(2024, 3, 1))
    weekly = break_row(split="none", entity="total", grain="week", day=date(2024, 3, 11))
    later = break_row(split="none", entity="total", grain="week", day=date(2024, 9, 2))
    growth_m, growth_w = trend_row(), trend_row(grain="week")
    ranked = build_findings(
        {"analytics_changepoint": [weekly, monthly, later], "analytics_trend": [growth_w, growth_m]}
    )
    kinds = [(f.kind, f.grain, f.date) for f in ranked]
    assert ("changepoint", "month", date(2024, 3, 1)) in kinds and (
        "changepoint",
        "week",
        date(2024, 3, 11),
    ) not in kinds
    assert ("changepoint", "week", date(2024, 9, 2)) in kinds  # another break, six months later
    assert [k for k in kinds if k[0] == "growth"] == [("growth", "month", None)]


def test_order_and_rows_do_not_depend_on_the_input_order():
    rows = [break_row(entity=e, before=1000.0, after=a) for e, a in (("DEU", 500.0), ("FRA", 400.0), ("ITA", 500.0))]
    anomalies = [anomaly_row(split="country", entity=e, score=s) for e, s in (("DEU", 5.0), ("ESP", 9.0))]
    first = finding_rows("r1", build_findings({"analytics_changepoint": rows, "analytics_anomaly": anomalies}))
    random.Random(3).shuffle(rows)
    anomalies.reverse()
    second = finding_rows("r1", build_findings({"analytics_changepoint": rows, "analytics_anomaly": anomalies}))
    assert first == second
    assert [r["rank"] for r in first] == list(range(1, len(first) + 1))
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(first))
    parts = json.loads(first[0]["numbers"])["score_parts"]
    assert first[0]["score"] == pytest.approx(
        parts["kind_weight"] * parts["grain_weight"] * parts["magnitude"] * parts["confidence"] * parts["reach"]
    )


def test_forecast_and_backlog_statements_carry_model_interval_and_capacity():
    forecast = [
        {
            "series_id": "referrals|month|none|total",
            "metric": "referrals",
            "grain": "month",
            "split_by": "none",
            "entity": "total",
            "date": date(2025, m, 1),
            "yhat": 1000.0 + m,
            "yhat_lower": 800.0,
            "yhat_upper": 1250.0,
            "level": 0.8,
            "model": "ets",
            "backtest_mase": 0.82,
            "backtest_coverage": 0.78,
        }
        for m in (1, 2, 3)
    ]
    backlog = [
        {
            "series_id": "referrals|month|none|total",
            "metric": "referrals",
            "grain": "month",
            "date": date(2025, m, 1),
            "arrivals": 1000.0,
            "capacity": 900.0,
            "backlog": 100.0 * m,
            "backlog_lower": 50.0 * m,
            "backlog_upper": 150.0 * m,
            "p_growing": 0.97,
            "level": 0.8,
            "capacity_per_day": 30.0,
            "initial_backlog": 20.0,
            "arrivals_source": "base forecast (ets)",
            "parameters": "{}",
        }
        for m in (1, 2, 3)
    ]
    trend = [trend_row(split="none", entity="total", total=24000.0, yoy=None, direction="no trend")]
    found = {
        f.kind: f
        for f in build_findings(
            {"analytics_forecast": forecast, "analytics_backlog": backlog, "analytics_trend": trend}
        )
    }
    assert found["forecast"].headline == (
        "Forecast for referrals (EU total): 1,002 per month on average over 2025-01 to 2025-03, against 1,000 per "
        "month over 2023-01 to 2024-12 (80 % interval for 2025-03: 800 to 1,250; model ets, backtest MASE 0.82, "
        "interval coverage 78 %)"
    )
    assert found["backlog"].headline == (
        "Backlog of referrals (EU total): at the recent triage rate of 30 per day, the 20 open now would grow to "
        "300 by 2025-03 (80 % interval 150 to 450; chance it grows: 97 %)"
    )


def test_a_calibrated_forecast_states_the_coverage_of_its_band_on_later_folds_and_the_models_own():
    forecast = [
        {
            "series_id": "referrals|month|none|total",
            "metric": "referrals",
            "grain": "month",
            "split_by": "none",
            "entity": "total",
            "date": date(2025, m, 1),
            "yhat": 1000.0,
            "yhat_lower": 700.0,
            "yhat_upper": 1300.0,
            "level": 0.8,
            "model": "ets",
            "backtest_mase": 0.82,
            "backtest_coverage": 0.47,
            "backtest_calibrated_coverage": 0.76,
            "calibration_factor": 2.4,
        }
        for m in (1, 2)
    ]
    [finding] = build_findings({"analytics_forecast": forecast})
    assert finding.headline.endswith(
        "model ets, backtest MASE 0.82, interval calibrated on the backtest errors (coverage 76 % on later folds; "
        "the model's own 47 %))"
    )
    assert finding.numbers["backtest_calibrated_coverage"] == 0.76


def test_rank_drops_nothing_that_is_not_a_duplicate():
    findings = build_findings({"analytics_changepoint": [break_row(entity=e) for e in ("AUT", "BEL", "CYP")]})
    assert len(rank(findings)) == 3


def test_consecutive_spikes_at_one_grain_are_separate_findings_but_a_months_spike_absorbs_its_weeks():
    weeks = [anomaly_row(day=date(2024, 3, 4)), anomaly_row(day=date(2024, 3, 11), score=9.0)]
    month = anomaly_row(grain="month", day=date(2024, 3, 1), value=9000.0, expected=3000.0, score=12.0)
    april = anomaly_row(day=date(2024, 4, 1))
    assert len(build_findings({"analytics_anomaly": weeks})) == 2
    kept = build_findings({"analytics_anomaly": [*weeks, month, april]})
    assert [(f.grain, f.date) for f in kept] == [("month", date(2024, 3, 1)), ("week", date(2024, 4, 1))]
