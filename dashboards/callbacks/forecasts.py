"""Forecasts page: what its callbacks compute, as plain functions of a `WarehouseReader` and a `ViewState`.

The page shows what the latest `grace analyse` run stored for one series: the forecast with its
prediction interval after the history (the model's interval calibrated on its backtest errors), the
chosen model with its backtest MASE and the measured coverage of its own and of the calibrated interval,
the reconciled forecast (total = sum of the countries) next to the base
one where the run made one, and the referral backlog projected against analyst capacity.

- The series is the view's metric x grain for the EU total, one country or one platform (the
  global filters: none, exactly one country, or exactly one platform).
- `FORECAST_CHART` and `BACKLOG_CHART` are registered charts (exports rebuild them from the URL).
- `candidate_scores`: every candidate model's backtest, as the run stored it
  (`analytics_forecast_candidate`).
- The backlog: the run's projection at its default capacity (the recent triage rate); another
  capacity (`?capacity=`, referrals triaged per day, from the slider) is projected again with
  `analytics.capacity.project_backlog` from the same arrivals forecast, seed and path count, so
  the default capacity reproduces the stored rows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.warehouse_series import GRAIN_FREQ, SeriesRequestError, load_series
from analytics.warehouse_series import metric as metric_named
from dashboards.charts import Chart, ChartData, register_chart
from dashboards.figures import empty_figure
from dashboards.figures.forecasts import MODEL_LABELS, backlog_figure, forecast_figure, model_label
from dashboards.formatting import GRAIN_LABELS
from dashboards.state import ViewState, ViewStateError
from grace.errors import WarehouseError
from grace.vocabulary import NO_SPLIT, TOTAL, SeriesId, metric_title
from warehouse import WarehouseReader, load_query

PAGE_PATH = "/forecasts"
SOURCE = "GRACE warehouse, latest `grace analyse` run (analytics_forecast, analytics_backlog)"
NO_RUN_HINT = (
    "No analysis run in this warehouse yet: run `grace analyse` (for example "
    "`grace analyse --metrics referrals --grain month,week`) to compute forecasts."
)
BACKLOG_METRIC = "referrals"
COUNT_UNITS = ("count", "stock", "distinct")
SCOPED_BACKLOG = (
    "The backlog projection counts the referrals of every country together, so it is not shown to "
    "users whose access is limited to some countries."
)


class ForecastRequestError(ViewStateError, ValueError):
    """A view the stored forecasts cannot answer (e.g. two countries at once)."""


class SeriesChoice(SeriesId):
    """The analysed series a view asks for (a `SeriesId` with its label)."""

    @property
    def series_id(self) -> str:
        return self.text

    @property
    def label(self) -> str:
        if self.split_by == NO_SPLIT:
            return "EU total"
        return f"{'country' if self.split_by == 'country' else 'platform'} {self.entity}"


def series_choice(state: ViewState) -> SeriesChoice:
    """The stored series of a view: the EU total, one country or one platform (else an error)."""
    countries, platforms = state.country, state.platform
    if not countries and not platforms:
        return SeriesChoice(state.metric, state.grain, NO_SPLIT, TOTAL)
    if len(countries) == 1 and not platforms:
        return SeriesChoice(state.metric, state.grain, "country", countries[0])
    if len(platforms) == 1 and not countries:
        return SeriesChoice(state.metric, state.grain, "platform", platforms[0])
    raise ForecastRequestError(
        "Forecasts are stored for the EU total, for one country and for one platform: "
        "choose at most one country or one platform in the filters."
    )


# --- run and options -------------------------------------------------------------------------


class RunInfo(NamedTuple):
    run_id: str
    created_at: pd.Timestamp
    parameters: dict

    @property
    def text(self) -> str:
        return f"Latest analysis {self.created_at:%d %b %Y %H:%M} UTC (run {self.run_id})"


def _run_info(frame: pd.DataFrame) -> RunInfo | None:
    if frame.empty:
        return None
    row = frame.iloc[0]
    return RunInfo(str(row["run_id"]), pd.Timestamp(row["created_at"]), json.loads(row["parameters"] or "{}"))


class Options(NamedTuple):
    """What the metric and grain pickers offer: only what the latest run forecast."""

    metric_options: list[dict]
    grain_options: list[dict]
    message: str  # empty, or what to do (no run yet, warehouse unavailable)


def options(reader: WarehouseReader, state: ViewState) -> Options:
    """Metrics and grains with stored forecasts; the view's own values are always offered."""
    try:
        frame = reader.run("forecasts_available", run_id="")
    except WarehouseError as error:
        return Options(_fallback(state.metric), [_grain(state.grain)], f"Warehouse unavailable: {error}")
    metrics = sorted(set(frame["metric"]) | {state.metric})
    grains = [g for g in GRAIN_LABELS if g in set(frame["grain"]) | {state.grain}]
    message = "" if not frame.empty else NO_RUN_HINT
    return Options([{"label": metric_title(m), "value": m} for m in metrics], [_grain(g) for g in grains], message)


def _fallback(name: str) -> list[dict]:
    return [{"label": metric_title(name), "value": name}]


def _grain(grain: str) -> dict:
    return {"label": GRAIN_LABELS[grain], "value": grain}


# --- the forecast chart ----------------------------------------------------------------------


FORECAST_COLUMNS = [
    "date",
    "actual",
    "forecast",
    "forecast_lower",
    "forecast_upper",
    "reconciled",
    "reconciled_lower",
    "reconciled_upper",
]


class ForecastView(NamedTuple):
    """Outputs of `draw_forecast`: chart, texts and the stored model summary."""

    figure: go.Figure
    subtitle: str
    note: str
    status: str  # what to do when nothing can be shown (no run, bad filter); else empty
    model: str  # "Why this model" paragraph from the stored scores
    run: str  # which run is shown


def _connection(reader: WarehouseReader):
    """A cursor on the reader's shared read-only connection, for named queries and rollup series."""
    return reader.cursor()


def _query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run a named query (`sql/queries/<name>.sql`) on an open connection."""
    query = load_query(name)
    return con.execute(query.sql, query.bind(params)).df()


def _series_filters(choice: SeriesChoice) -> dict[str, list[str]]:
    return {} if choice.split_by == NO_SPLIT else {choice.split_by: [choice.entity]}


def history(con, choice: SeriesChoice) -> pd.DataFrame:
    """The series' values from the rollups (ds, y), as `grace analyse` read them."""
    return load_series(con, choice.metric, choice.grain, filters=_series_filters(choice))[["ds", "y"]]


@dataclass(frozen=True)
class ForecastExtras:
    """What the forecast figure and texts need besides the frame."""

    run: RunInfo | None
    stored: pd.DataFrame  # the run's forecast rows of the series
    choice: SeriesChoice


def forecast_data(reader: WarehouseReader, state: ViewState) -> ChartData[ForecastExtras]:
    """History and stored forecast of the view's series, one row per period (see `FORECAST_COLUMNS`),
    with the run, its stored rows and the series as `ForecastExtras`. Raises
    `ForecastRequestError` / `SeriesRequestError` for views that cannot be answered.
    """
    choice = series_choice(state)
    m = metric_named(choice.metric)
    with _connection(reader) as con:
        run = _run_info(_query(con, "analytics_latest_run", run_id=""))
        stored = _query(con, "analytics_forecast", run_id="", series_id=choice.series_id) if run else None
        actual = history(con, choice)
    actual = actual.rename(columns={"ds": "date", "y": "actual"})
    if stored is None:
        stored = pd.DataFrame(
            columns=[
                "date",
                "yhat",
                "yhat_lower",
                "yhat_upper",
                "reconciled_yhat",
                "reconciled_lower",
                "reconciled_upper",
                "model",
                "backtest_mase",
                "backtest_coverage",
                "backtest_calibrated_coverage",
                "calibration_factor",
                "level",
                "reconciliation_method",
                "hierarchy",
            ]
        )
    stored = stored.assign(date=pd.to_datetime(stored["date"]))
    future = stored.rename(
        columns={
            "yhat": "forecast",
            "yhat_lower": "forecast_lower",
            "yhat_upper": "forecast_upper",
            "reconciled_yhat": "reconciled",
        }
    )
    frame = pd.concat(
        [
            actual.assign(date=pd.to_datetime(actual["date"])),
            future[
                [
                    "date",
                    "forecast",
                    "forecast_lower",
                    "forecast_upper",
                    "reconciled",
                    "reconciled_lower",
                    "reconciled_upper",
                ]
            ],
        ],
        ignore_index=True,
    )
    frame = frame.groupby("date", as_index=False, sort=True).first()  # a period both observed and forecast
    frame = frame.reindex(columns=FORECAST_COLUMNS)
    frame = (
        pd.concat(
            [frame[frame["forecast"].isna() & state.in_period(frame["date"])], frame[frame["forecast"].notna()]],
            ignore_index=True,
        )
        .sort_values("date", kind="stable")
        .reset_index(drop=True)
    )
    counts = tuple(FORECAST_COLUMNS[1:]) if m.unit in COUNT_UNITS else ()
    return ChartData(
        frame=frame,
        count_columns=counts,
        cell_columns=("date",),
        subtitle=forecast_subtitle(choice, stored, state),
        note=forecast_note(run, stored, choice),
        extras=ForecastExtras(run, stored, choice),
        estimate_columns=tuple(FORECAST_COLUMNS[2:]) if counts else (),
    )


def forecast_headline(choice: SeriesChoice) -> str:
    """'Referrals per month, PhotoShare: forecast with prediction interval' (countries go in the scope)."""
    platform = f", {choice.entity}" if choice.split_by == "platform" else ""
    return f"{metric_title(choice.metric)} per {choice.grain}{platform}: forecast with prediction interval"


def forecast_subtitle(choice: SeriesChoice, stored: pd.DataFrame, state: ViewState) -> str:
    parts = [f"{metric_title(choice.metric)} per {choice.grain}, {choice.label}"]
    if not stored.empty:
        level = float(stored["level"].iloc[0])
        parts.append(f"{len(stored)} {choice.grain}s ahead with {level:.0%} prediction interval")
    if state.start or state.end:
        parts.append(f"history {state.start or 'first'} to {state.end or 'latest'}")
    return " · ".join(parts)


def forecast_note(run: RunInfo | None, stored: pd.DataFrame, choice: SeriesChoice) -> str:
    if run is None or stored.empty:
        return ""
    notes = [run.text + "."]
    if stored["reconciled_yhat"].notna().any():
        method = str(stored["reconciliation_method"].dropna().iloc[0])
        notes.append(
            f"Reconciled ({RECONCILIATION_LABELS.get(method, method)}, {stored['hierarchy'].dropna().iloc[0]}): "
            "the dotted line is the forecast made coherent with the other series of the hierarchy."
        )
    calibrated = "calibration_factor" in stored and stored["calibration_factor"].notna().any()
    notes.append(
        "The shaded band is the prediction interval"
        + (", calibrated on the model's backtest errors" if calibrated else "")
        + "; forecasts of counts are clipped at zero."
    )
    return " ".join(notes)


RECONCILIATION_LABELS = {"mint_shrink": "MinT with shrunk covariance", "wls_struct": "structural WLS"}


def why_text(stored: pd.DataFrame, candidates: pd.DataFrame | None = None) -> str:
    """Why the stored model was chosen, with its numbers: lowest backtest MASE; measured coverage."""
    if stored.empty:
        return ""
    row = stored.iloc[0]
    name = model_label(str(row["model"]))
    mase, coverage, level = row["backtest_mase"], row["backtest_coverage"], float(row["level"])
    if _finite(mase) is None:
        text = (
            f"{name} was chosen: its backtest MASE is undefined (the training data did not change from one "
            "period to the next, so there is no scale), and among such ties the lowest mean absolute error decides"
        )
    else:
        text = f"{name} was chosen: it had the lowest backtest error (MASE {_number(mase)})"
    if candidates is not None and len(candidates) > 1:
        others = candidates[~candidates["chosen"]]
        text += (
            " of "
            + str(len(candidates))
            + " candidates ("
            + ", ".join(f"{model_label(m)} {_number(v)}" for m, v in zip(others["model"], others["mase"]))
            + ")"
        )
    text += ". " + transform_text(str(row["model"]), candidates)
    text += coverage_text(
        level,
        _finite(coverage),
        _finite(row.get("backtest_calibrated_coverage")),
        _finite(row.get("calibration_factor")),
    )
    text += (
        "MASE is the mean absolute forecast error divided by the mean absolute change from one period "
        "(or season) to the next in the training data; lower is better."
    )
    return text


COMBINATION_MEMBERS = ("ets", "theta", "arima", "ets_log", "theta_log", "sarima")  # analytics.forecast


def transform_text(model: str, candidates: pd.DataFrame | None = None) -> str:
    """What the chosen model's scale and make-up are, and what the backtest said about the alternative:
    a log-scale model against the same model on the original scale, and the reverse; a combination's members."""
    scores = {} if candidates is None else dict(zip(candidates["model"], candidates["mase"]))
    if model.endswith("_log"):
        base = model.removesuffix("_log")
        text = (
            "It was fitted to log(y + 1) and its forecast mapped back, which turns growth and seasonal swings "
            "proportional to the level into additive ones"
        )
        if base in scores:
            text += f"; on the original scale the same model scored MASE {_number(scores[base])}"
        return text + ". "
    if model == "combo":
        members = [model_label(m) for m in COMBINATION_MEMBERS if m in scores]
        return "Its forecast and band are the means of those of " + ", ".join(members) + ". " if members else ""
    if f"{model}_log" in scores:
        return (
            f"It was fitted on the original scale; on log(y + 1) the same model scored MASE "
            f"{_number(scores[f'{model}_log'])}. "
        )
    return ""


def coverage_text(level: float, own: float | None, calibrated: float | None, factor: float | None) -> str:
    """How well the intervals held the backtest actuals: the model's own, and the calibrated band shown
    (`factor` set) measured on later folds calibrated on earlier ones. The verdict is about the band shown."""

    def verdict(share: float) -> str:
        if abs(share - level) <= 0.1:
            return " — close to nominal."
        return " — wider than needed." if share > level else " — too narrow: read the band as optimistic."

    if factor is None:  # the model's own interval is shown (a run before calibration, or too few errors)
        return (
            ""
            if own is None
            else f"Its {level:.0%} prediction intervals held {own:.0%} of the backtest actuals{verdict(own)} "
        )
    text = "" if own is None else f"The model's own {level:.0%} intervals held {own:.0%} of the backtest actuals. "
    text += (
        f"The band shown is calibrated on the backtest errors (the model's width × {factor:.2f}, so that about "
        f"{level:.0%} of past errors fall inside)"
    )
    if calibrated is None:
        return text + "; the backtest had too few folds to measure it on data it was not calibrated on. "
    return (
        text + f"; calibrated on earlier folds only, it held {calibrated:.0%} of the actuals of the later ones"
        f"{verdict(calibrated)} "
    )


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value):
        return "–"
    return f"{float(value):.2f}"


def forecast_figure_for(data: ChartData[ForecastExtras], state: ViewState) -> go.Figure:
    frame = data.frame
    choice = data.extras.choice if data.extras else series_choice(state)
    title = f"{metric_title(choice.metric)} — {choice.label}"
    stored = data.extras.stored if data.extras else None
    if stored is None or stored.empty:
        return empty_figure("No stored forecast for this series.", title)
    return forecast_figure(
        frame,
        title=title,
        level=float(stored["level"].iloc[0]),
        model=model_label(str(stored["model"].iloc[0])),
        unit=metric_named(choice.metric).unit,
    )


FORECAST_CHART = register_chart(
    Chart(
        chart_id="forecasts-series",
        page=PAGE_PATH,
        title="Forecast with prediction interval",
        source=SOURCE,
        data=forecast_data,
        figure=forecast_figure_for,
        headline=lambda state: forecast_headline(series_choice(state)),
    )
)


def draw_forecast(reader: WarehouseReader, state: ViewState) -> ForecastView:
    """The forecast card's figure and texts for a view; problems become a message, never a traceback."""
    title = "Forecast"
    try:
        data = forecast_data(reader, state)
    except (ForecastRequestError, SeriesRequestError) as error:
        return ForecastView(empty_figure(str(error), title), "", "", str(error), "", "")
    except WarehouseError as error:
        message = f"Warehouse unavailable: {error}"
        return ForecastView(empty_figure(message, title), "", "", message, "", "")
    if data.extras is None:
        raise RuntimeError("forecast_data returned no ForecastExtras")
    run, stored, choice = data.extras.run, data.extras.stored, data.extras.choice
    if run is None:
        return ForecastView(empty_figure("No analysis run yet.", title), "", "", NO_RUN_HINT, "", "")
    if stored.empty:
        message = (
            f"The latest run stored no forecast for {metric_title(choice.metric).lower()} per {choice.grain} "
            f"({choice.label}). It may not have analysed this metric or grain, or the series was too short "
            f"or all zero; run `grace analyse --metrics {choice.metric} --grain {choice.grain}`."
        )
        return ForecastView(
            empty_figure("No stored forecast for this series.", title), data.subtitle, "", message, "", run.text
        )
    return ForecastView(forecast_figure_for(data, state), data.subtitle, data.note, "", why_text(stored), run.text)


# --- candidate models ------------------------------------------------------------------------


CANDIDATE_COLUMNS = [
    "model",
    "label",
    "mase",
    "mae",
    "rmse",
    "coverage",
    "calibrated_coverage",
    "folds",
    "horizon",
    "chosen",
]


class CandidatesView(NamedTuple):
    """Outputs of `candidate_scores`: one row per candidate model and the explanation."""

    rows: list[dict]  # CANDIDATE_COLUMNS, best first
    note: str  # how the backtest was run, whether the repeat matches the stored choice, or why there is none


def candidate_scores(reader: WarehouseReader, state: ViewState) -> CandidatesView:
    """Every candidate model's backtest for the view's series, as the run stored them."""
    try:
        choice = series_choice(state)
        with _connection(reader) as con:
            stored = _query(con, "forecasts_candidates", run_id="", series_id=choice.series_id)
    except (ForecastRequestError, SeriesRequestError, WarehouseError):
        return CandidatesView([], "")
    rows = _candidate_rows(stored.itertuples(index=False))
    note = _backtest_note(rows[0] if rows else None, choice.grain, "Scores as stored by the run.")
    return CandidatesView(rows, note or "No candidate backtests are stored for this series in the latest run.")


def _candidate_rows(candidates) -> list[dict]:
    """Table rows (CANDIDATE_COLUMNS) from backtests, best first."""
    rows = [
        {
            "model": b.model,
            "label": model_label(b.model),
            "mase": _finite(b.mase),
            "mae": _finite(b.mae),
            "rmse": _finite(b.rmse),
            "coverage": _finite(b.coverage),
            "calibrated_coverage": _finite(getattr(b, "calibrated_coverage", None)),
            "folds": int(b.folds),
            "horizon": int(b.horizon),
            "chosen": bool(b.chosen),
        }
        for b in candidates
    ]
    rows.sort(key=lambda r: (r["mase"] if r["mase"] is not None else math.inf, r["mae"] or math.inf))
    return rows


def _backtest_note(first: dict | None, grain: str, how: str) -> str:
    if not first:
        return ""
    return (
        f"Backtest: {first['folds']} rolling origin(s), each forecasting {first['horizon']} {grain}(s) ahead "
        f"from the data before it. {how}"
    )


def _finite(value) -> float | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --- backlog ---------------------------------------------------------------------------------


BACKLOG_COLUMNS = ["date", "arrivals", "capacity", "backlog", "backlog_lower", "backlog_upper", "p_growing"]


class BacklogDefaults(NamedTuple):
    """The slider's range and the run's default capacity (referrals triaged per day)."""

    default: int | None  # None: no stored projection at this grain
    minimum: int
    maximum: int
    marks: dict
    message: str


def _stored_backlog(session, grain: str) -> pd.DataFrame:
    return session.run("analytics_backlog", run_id="", grain=grain)


def backlog_defaults(reader: WarehouseReader, state: ViewState) -> BacklogDefaults:
    """Slider range: 1 to about three times the larger of the default capacity and the forecast arrivals per day."""
    if not state.scope.eu_wide:
        return BacklogDefaults(None, 1, 10, {}, SCOPED_BACKLOG)
    try:
        with reader.session() as session:
            stored = _stored_backlog(session, state.grain)
    except WarehouseError as error:
        return BacklogDefaults(None, 1, 10, {}, f"Warehouse unavailable: {error}")
    if stored.empty:
        return BacklogDefaults(None, 1, 10, {}, _no_backlog(state.grain))
    default = float(stored["capacity_per_day"].iloc[0])
    from analytics.capacity import days_in_period

    days = days_in_period(pd.DatetimeIndex(pd.to_datetime(stored["date"])), GRAIN_FREQ[state.grain])
    arrivals_per_day = float(np.nanmax(stored["arrivals"].to_numpy(dtype=float) / days))
    maximum = max(10, math.ceil(3 * max(default, arrivals_per_day)))
    value = max(1, round(default))
    marks = {1: "1", value: {"label": f"{value:,} (recent rate)"}, maximum: f"{maximum:,}"}
    return BacklogDefaults(value, 1, maximum, marks, "")


def _no_backlog(grain: str) -> str:
    return (
        f"No backlog projection stored at the {grain} grain: `grace analyse` projects it from the "
        f"EU-total referral forecast (run it with `--metrics referrals --grain {grain}`)."
    )


@dataclass(frozen=True)
class BacklogExtras:
    """The projection's setting: the capacity drawn, the run's default, the interval level, the start."""

    capacity: float
    default: float
    level: float
    initial: float


def backlog_data(reader: WarehouseReader, state: ViewState) -> ChartData[BacklogExtras]:
    """Backlog projection at the view's capacity (`state.capacity`, else the run's default)."""
    from analytics.capacity import project_backlog

    with reader.session() as session:
        stored = _stored_backlog(session, state.grain)
        arrivals = (
            session.run("analytics_forecast", run_id="", series_id=str(stored["series_id"].iloc[0]))
            if not stored.empty
            else None
        )
    if stored.empty or arrivals is None or arrivals.empty:
        return ChartData(frame=pd.DataFrame(columns=BACKLOG_COLUMNS), subtitle="", note=_no_backlog(state.grain))
    first = stored.iloc[0]
    default, level = float(first["capacity_per_day"]), float(first["level"])
    capacity = float(state.capacity) if state.capacity else default
    reconciled = str(first["arrivals_source"]).startswith("reconciled") and arrivals["reconciled_yhat"].notna().all()
    columns = (
        ("reconciled_yhat", "reconciled_lower", "reconciled_upper")
        if reconciled
        else ("yhat", "yhat_lower", "yhat_upper")
    )
    forecast = pd.DataFrame(
        {
            "date": pd.to_datetime(arrivals["date"]),
            **{
                name: arrivals[column].clip(lower=0).to_numpy(dtype=float)
                for name, column in zip(("yhat", "yhat_lower", "yhat_upper"), columns)
            },
        }
    )
    setup = json.loads(first["parameters"] or "{}")
    frame = project_backlog(
        forecast,
        GRAIN_FREQ[state.grain],
        capacity,
        float(first["initial_backlog"]),
        level=level,
        paths=int(setup.get("paths", 2000)),
        seed=int(setup.get("seed", 0)),
    )
    counts = ("arrivals", "capacity", "backlog", "backlog_lower", "backlog_upper")
    return ChartData(
        frame=frame,
        count_columns=counts,
        cell_columns=("date",),
        subtitle=backlog_subtitle(state.grain, capacity, default, level),
        note=backlog_note(first, setup),
        extras=BacklogExtras(capacity, default, level, float(first["initial_backlog"])),
        estimate_columns=counts,
    )


def backlog_subtitle(grain: str, capacity: float, default: float, level: float) -> str:
    which = "the recent triage rate" if math.isclose(capacity, default) else f"recent rate {default:,.1f}"
    return (
        f"EU-total referrals per {grain} · capacity {capacity:,.1f} referrals triaged per day ({which}) · "
        f"median and {level:.0%} interval"
    )


def backlog_note(first, setup: dict) -> str:
    window = ""
    if setup.get("window_start") and setup.get("window_end"):
        window = f" over {setup['window_start']} to {setup['window_end']}"
    return (
        f"Arrivals: {first['arrivals_source']}. Default capacity: {setup.get('capacity_source', 'recent triage rate')}"
        f"{window}. Start: {float(first['initial_backlog']):,.0f} open referrals ({setup.get('initial_backlog', '')}). "
        f"{int(setup.get('paths', 2000)):,} simulated paths (seed {setup.get('seed', 0)}); periods are drawn "
        "independently, which understates the spread when errors persist."
    )


def backlog_figure_for(data: ChartData[BacklogExtras], state: ViewState) -> go.Figure:
    title = "Referral backlog"
    if data.frame.empty or data.extras is None:
        return empty_figure(data.note or "No backlog projection stored.", title)
    return backlog_figure(data.frame, title=title, level=data.extras.level)


BACKLOG_CHART = register_chart(
    Chart(
        chart_id="forecasts-backlog",
        page=PAGE_PATH,
        title="Backlog projection against analyst capacity",
        source=SOURCE,
        data=backlog_data,
        figure=backlog_figure_for,
        headline="Referral backlog projected per {grain} against analyst capacity",
        eu_wide=True,
        on_hub=False,
    )
)


class BacklogView(NamedTuple):
    figure: go.Figure
    subtitle: str
    note: str
    summary: str  # the end state in words


def draw_backlog(reader: WarehouseReader, state: ViewState) -> BacklogView:
    """The backlog card for a view (a message instead of a chart when nothing can be shown, e.g. for a
    user whose scope is limited to some countries: the backlog mixes them all)."""
    title = "Referral backlog"
    if not state.scope.eu_wide:
        return BacklogView(empty_figure(SCOPED_BACKLOG, title), "", "", SCOPED_BACKLOG)
    try:
        data = backlog_data(reader, state)
    except WarehouseError as error:
        message = f"Warehouse unavailable: {error}"
        return BacklogView(empty_figure(message, title), "", "", message)
    if data.frame.empty:
        return BacklogView(empty_figure("No backlog projection stored.", title), "", data.note, data.note)
    return BacklogView(backlog_figure_for(data, state), data.subtitle, data.note, backlog_summary(data, state.grain))


def backlog_summary(data: ChartData[BacklogExtras], grain: str) -> str:
    """'By Dec 2025 the backlog reaches 1,234 (80 % interval 900 to 1,600); it grows with probability 72 %.'"""
    frame, extras = data.frame, data.extras or BacklogExtras(0.0, 0.0, 0.8, 0.0)
    last = frame.iloc[-1]
    start = extras.initial
    capacity = extras.capacity
    days = float(frame["capacity"].sum() / capacity) if capacity > 0 else float("nan")
    arrivals_per_day = float(frame["arrivals"].sum() / days) if days > 0 else float("nan")
    level = extras.level
    when = pd.Timestamp(last["date"]).strftime("%b %Y" if grain in ("month", "quarter", "year") else "%d %b %Y")
    text = (
        f"By {when} the backlog is projected at {last['backlog']:,.0f} referrals ({level:.0%} interval "
        f"{last['backlog_lower']:,.0f} to {last['backlog_upper']:,.0f}), from {start:,.0f} now; "
        f"probability that it ends higher than now: {float(last['p_growing']):.0%}."
    )
    if math.isfinite(arrivals_per_day):
        text += f" Forecast arrivals average {arrivals_per_day:,.1f} a day against a capacity of {capacity:,.1f}."
    return text


def capacity_for_state(value, default: int | None) -> int | None:
    """The slider value as `ViewState.capacity`: None (the default, kept out of the URL) or a positive int."""
    if value in (None, "") or (default is not None and int(value) == int(default)):
        return None
    return max(1, int(value))


__all__ = [
    "BACKLOG_CHART",
    "FORECAST_CHART",
    "MODEL_LABELS",
    "backlog_defaults",
    "candidate_scores",
    "capacity_for_state",
    "draw_backlog",
    "draw_forecast",
    "options",
    "series_choice",
]
