"""Capacity: the referral backlog at the period's end against the end of the period before, and the
referrals received and triaged in the period, as sentences whose every number is checked.

The backlog is referrals received but not yet triaged (`rollup_backlog_daily`: by receipt and by triage
date), for the countries of the report's scope. The sentences are written from one period query
(`report_backlog_period`); the check reads the backlog from the analytics stock series (`load_series`,
metric `backlog`, the level at each period's end) and the received and triaged referrals from the daily
rows of the period (`report_backlog_daily`), summed here. The projection against analyst capacity (the
dashboard's capacity slider) is the `forecasts-backlog` chart, which mixes every country and so appears
in EU-wide reports only. Counts from 1 to k − 1 are not printed.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.narrative import format_percent
from analytics.warehouse_series import load_series
from reporting.model import CheckedNumber, Sentence
from reporting.period import Period
from reporting.queries import run_named

SOURCE = "report computation: backlog (rollup_backlog_daily; checked on the stock series and daily rows)"


def capacity_sentences(
    con: duckdb.DuckDBPyConnection, period: Period, countries: list[str] | None, scope_label: str, k: int
) -> tuple[Sentence, ...]:
    """The backlog sentence and the received/triaged sentence for the scope (`countries` None: everything)."""
    chosen = list(countries or [])
    bound = {"countries": chosen, "start": period.start, "end": period.end}
    totals = run_named(con, "report_backlog_period", **bound, previous_end=period.previous_end).iloc[0]
    daily = run_named(con, "report_backlog_daily", **bound)
    stock = load_series(con, "backlog", period.grain, filters={"country": chosen} if chosen else {}, drop_partial=False)
    level = {pd.Timestamp(ds).date(): float(y) for ds, y in zip(stock["ds"], stock["y"])}
    end, before = float(totals["backlog_end"]), float(totals["backlog_previous_end"])
    end_check, before_check = level.get(period.start), level.get(period.previous_start)
    return (
        _backlog(period, scope_label, k, (end, end_check), (before, before_check)),
        _flows(period, scope_label, k, totals, daily),
    )


def _backlog(period: Period, scope: str, k: int, end: tuple, before: tuple) -> Sentence:
    (value, check), (previous, previous_check) = end, before
    head = f"Backlog ({scope}): "
    if 0 < value < k:
        return Sentence(
            f"{head}not shown for the end of {period.label} (fewer than {k} referrals; small-cell rule).", source=SOURCE
        )
    numbers = [CheckedNumber(f"backlog at the end of {period.label}", f"{value:,.0f}", value, check, 0.5)]
    text = f"{head}{numbers[0].shown} referrals received but not yet triaged at the end of {period.label}"
    if 0 < previous < k:
        text += f"; the end of {period.previous_label} is below the small-cell threshold"
    else:
        numbers.append(
            CheckedNumber(
                f"backlog at the end of {period.previous_label}", f"{previous:,.0f}", previous, previous_check, 0.5
            )
        )
        text += f", against {numbers[-1].shown} at the end of {period.previous_label}"
    return Sentence(text + ".", tuple(numbers), source=SOURCE)


def _flows(period: Period, scope: str, k: int, totals: pd.Series, daily: pd.DataFrame) -> Sentence:
    received, triaged = float(totals["received"]), float(totals["triaged"])
    received_check, triaged_check = float(daily["received"].sum()), float(daily["triaged"].sum())
    if 0 < received < k or 0 < triaged < k:
        return Sentence(
            f"Referrals received and triaged in {period.label} ({scope}): not shown (fewer than {k}; small-cell rule).",
            source=SOURCE,
        )
    numbers = [
        CheckedNumber(f"referrals received in {period.label}", f"{received:,.0f}", received, received_check, 0.5),
        CheckedNumber(f"referrals triaged in {period.label}", f"{triaged:,.0f}", triaged, triaged_check, 0.5),
    ]
    text = f"In {period.label} ({scope}), {numbers[0].shown} referrals were received and {numbers[1].shown} triaged"
    if received > 0:
        ratio = triaged / received
        again = triaged_check / received_check if received_check else None
        numbers.append(
            CheckedNumber(f"triaged per referral received in {period.label}", format_percent(ratio), ratio, again, 1e-9)
        )
        text += f" (triaged: {numbers[-1].shown} of the number received)"
    return Sentence(text + ".", tuple(numbers), source=SOURCE)
