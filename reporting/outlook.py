"""The outlook: a stored forecast's next period, its point and prediction interval, as a checked sentence.

`grace analyse` stores each series' forecast (`analytics_forecast`: the chosen model's point, its interval
— calibrated on the backtest errors when the run could — and the interval's level). A forecast is a
model's output, so "recomputing" it means reading it again: the sentence is written from the
`analytics_forecast` query (every point of the series in the latest run) and each number is checked
against the same point read again on its own (`report_forecast_point`: run, series and date), which must
also be consistent — the interval holds the point and the level is a probability — or the number counts
as unchecked and `verify` refuses the report. The period forecast is the first one after the data the
run analysed.

Small-cell rule: for count-like metrics a point or bound from 1 to k − 1 is not printed; the sentence
says the outlook is withheld instead.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.narrative import format_percent, period_phrase
from analytics.warehouse_series import METRICS
from grace.vocabulary import NO_SPLIT, metric_title
from reporting.model import CheckedNumber, Sentence
from warehouse import load_query

COUNT_UNITS = ("count", "distinct", "stock")


def series_id_for(metric: str, grain: str, countries: list[str] | None) -> str | None:
    """The analysed series of a scope: the EU total (`countries` None) or one country (else None)."""
    if countries is None:
        return f"{metric}|{grain}|{NO_SPLIT}|total"
    if len(countries) == 1:
        return f"{metric}|{grain}|country|{countries[0]}"
    return None


def forecast_sentence(
    con: duckdb.DuckDBPyConnection, series_id: str, scope_label: str, k: int, run_id: str = ""
) -> Sentence:
    """'Referrals (EU-27), forecast for 2025-01: 250 (80 % interval 180 to 320; model ets).' — checked."""
    metric, grain = series_id.split("|")[:2]
    name = f"{metric_title(metric)} ({scope_label})"
    source = f"forecast of {series_id}"
    query = load_query("analytics_forecast")
    points = con.execute(query.sql, query.bind({"run_id": run_id, "series_id": series_id})).df()
    if points.empty:
        return Sentence(f"{name}: the latest analysis run stored no forecast at the {grain} grain.", source=source)
    if not run_id:
        latest = load_query("analytics_latest_run")
        run_id = str(con.execute(latest.sql, latest.bind({"run_id": ""})).df()["run_id"].iloc[0])
    first = points.sort_values("date").iloc[0]
    when = period_phrase(first["date"], grain)
    unit = METRICS[metric].unit
    values = {key: float(first[key]) for key in ("yhat", "yhat_lower", "yhat_upper")}
    if unit in COUNT_UNITS and any(0 < round(value) < k for value in values.values()):
        return Sentence(
            f"{name}, forecast for {when}: not shown (the forecast or its interval falls below {k}; small-cell rule).",
            source=source,
        )
    again = _read_again(con, run_id, series_id, first["date"])
    level = float(first["level"])
    shown = {key: _format(max(value, 0.0), unit) for key, value in values.items()}
    numbers = (
        CheckedNumber(f"forecast ({series_id}, {when})", shown["yhat"], values["yhat"], again.get("yhat"), 1e-9),
        CheckedNumber(f"interval level ({series_id})", format_percent(level), level, again.get("level"), 1e-9),
        CheckedNumber(
            f"interval low ({series_id}, {when})",
            shown["yhat_lower"],
            values["yhat_lower"],
            again.get("yhat_lower"),
            1e-9,
        ),
        CheckedNumber(
            f"interval high ({series_id}, {when})",
            shown["yhat_upper"],
            values["yhat_upper"],
            again.get("yhat_upper"),
            1e-9,
        ),
    )
    text = (
        f"{name}, forecast for {when}: {shown['yhat']} ({numbers[1].shown} prediction interval "
        f"{shown['yhat_lower']} to {shown['yhat_upper']}; model {first['model']})."
    )
    return Sentence(text, numbers, source=f"{source}, run {run_id} (re-read from analytics_forecast)")


def _read_again(con: duckdb.DuckDBPyConnection, run_id: str, series_id: str, day) -> dict[str, float]:
    """The stored point read on its own; empty (nothing checks) when missing or inconsistent."""
    query = load_query("report_forecast_point")
    found = con.execute(
        query.sql, query.bind({"run_id": run_id, "series_id": series_id, "date": pd.Timestamp(day).date()})
    ).df()
    if len(found) != 1 or found.iloc[0].isna().any():
        return {}
    row = {key: float(found[key].iloc[0]) for key in ("yhat", "yhat_lower", "yhat_upper", "level")}
    consistent = row["yhat_lower"] <= row["yhat"] <= row["yhat_upper"] and 0 < row["level"] < 1
    return row if consistent else {}


def _format(value: float, unit: str) -> str:
    if unit in COUNT_UNITS:
        return f"{value:,.0f}"
    if unit == "share":
        return format_percent(value)
    return f"{value:,.1f}"
