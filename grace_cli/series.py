"""`grace series analyse` and `grace panel analyse`: trend analytics on any CSV file, no warehouse needed."""

from __future__ import annotations

import json
from pathlib import Path

import click

from analytics.warehouse_series import GRAIN_FREQ
from grace.vocabulary import FORECAST_HORIZON
from grace_cli.options import OneLineErrors

FREQ_CHOICE = click.Choice(["D", "W", "M", "Q", "Y"], case_sensitive=False)
# The shared default horizon (grace.vocabulary.FORECAST_HORIZON), by the series' frequency code.
DEFAULT_HORIZON = {code: FORECAST_HORIZON[grain] for grain, code in GRAIN_FREQ.items()}
DEFAULT_MODELS = "seasonal_naive,drift,theta,arima,ets,ets_log,combo"  # analytics.results.ForecastParams.models
ALL_MODELS = "seasonal_naive,drift,theta,arima,ets,ets_log,theta_log,combo,ets_damped,sarima,prophet"


def register(cli: click.Group) -> None:
    """Attach this module's commands to the `grace` group."""
    cli.add_command(series_group)
    cli.add_command(panel_group)


def _models(_ctx, _param, value: str) -> tuple[str, ...]:
    from analytics.forecast import MODELS

    text = {"default": DEFAULT_MODELS, "all": ALL_MODELS}.get(value.strip().lower(), value)
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODELS)}, 'default' or 'all'"
        )
    return names


def _common_options(func):
    func = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary.")(func)
    func = click.option(
        "--agg",
        type=click.Choice(["sum", "mean"]),
        default="sum",
        show_default=True,
        help="How values of one period are combined when aggregating to --freq "
        "(sum for counts; with mean, a period without data is an error).",
    )(func)
    func = click.option(
        "--freq",
        type=FREQ_CHOICE,
        default=None,
        help="D (day), W (ISO week), M (month), Q (quarter) or Y (year) [default: inferred from the dates].",
    )(func)
    func = click.option("--value-col", required=True, help="Column with the numeric values.")(func)
    func = click.option("--date-col", required=True, help="Column with the dates (ISO 8601, YYYY-Www or YYYY-Qn).")(
        func
    )
    func = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))(func)
    return func


@click.group(name="series")
def series_group() -> None:
    """Analyse one time series from a CSV file: trend, change points, anomalies, forecast."""


@series_group.command(name="analyse", cls=OneLineErrors)
@_common_options
@click.option(
    "--horizon",
    type=click.IntRange(min=0),
    default=None,
    help="Periods to forecast; 0 = no forecast [default: 28 days, 13 weeks, 12 months, 4 quarters or "
    "3 years, at most the length of the series].",
)
@click.option(
    "--models",
    default="default",
    show_default=True,
    callback=_models,
    help="Comma-separated forecast candidates (seasonal_naive, drift, theta, arima, ets, ets_log, theta_log, "
    "combo, ets_damped, sarima, prophet), 'default' (seasonal_naive,drift,theta,arima,ets,ets_log,combo; plus "
    "prophet for daily series of 2+ years; expensive ones skipped on short, intermittent or weekly series) or 'all'.",
)
@click.option(
    "--level",
    type=click.FloatRange(0.5, 0.99),
    default=0.8,
    show_default=True,
    help="Nominal coverage of the prediction intervals.",
)
def series_analyse(
    file: Path,
    date_col: str,
    value_col: str,
    freq: str | None,
    agg: str,
    as_json: bool,
    horizon: int | None,
    models: tuple[str, ...],
    level: float,
) -> None:
    """Analyse FILE.csv, one row per date: trend, change points, anomalies and a forecast.

    \b
    Dates are regularised to --freq periods (labelled by their first day) with explicit zeros for
    periods without rows. With --json, prints one object:
      trend         direction ("increasing" | "decreasing" | "no trend"), slope (Sen, per period),
                    p_value (Mann-Kendall; seasonal variant for seasonal series), test, slope_per_year
      seasonality   seasonal yes/no (Kruskal-Wallis), STL seasonal and trend strengths
      growth        year_on_year and recent: growth of the window over the one before, 90 % CI
      changepoints  [{date, level_before, level_after, magnitude, direction, confidence, ...}]
      anomalies     [{date, value, expected, magnitude, direction (spike|dip), score (robust z)}]
      forecast      [{date, yhat, yhat_lower, yhat_upper}]
      model         {name, interval ("calibrated" | "model"), level, backtest {mase, mae, rmse, level,
                    coverage, calibrated_coverage, calibration_factor, folds, horizon}, candidates}
      parameters, notes, version
    The model is the candidate with the lowest MASE in a rolling-origin backtest. Its interval is
    calibrated on the backtest errors (the model's half-widths x calibration_factor, split-conformal);
    coverage is the measured share of backtest actuals inside the model's own intervals,
    calibrated_coverage inside the calibrated ones, each fold calibrated on earlier folds only. Same input, same output. Rows are
    counted from 1 (the first row below the header) in error messages.
    """
    from analytics.analyse import analyse_series, with_horizon
    from analytics.results import AnalysisParams
    from analytics.series import read_series

    series = read_series(file, date_col, value_col, freq=freq, agg=agg)
    notes = []
    if horizon is None:
        horizon = min(DEFAULT_HORIZON[series.freq], series.n)
        from analytics.forecast import min_points

        if series.n < min_points(horizon):
            notes.append(f"no forecast: {series.n} points are too few for a backtested forecast")
            horizon = 0
    params = with_horizon(AnalysisParams(), horizon, models=models, level=level)
    result = analyse_series(series, params)
    payload = result.to_dict()
    payload["notes"] = payload["notes"] + notes
    payload["series"].update({"file": str(file), "date_col": date_col, "value_col": value_col})
    if as_json:
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        _print_series(payload)


@click.group(name="panel")
def panel_group() -> None:
    """Analyse a panel (one series per entity: country, platform ...) from a CSV file."""


@panel_group.command(name="analyse", cls=OneLineErrors)
@_common_options
@click.option("--entity-col", required=True, help="Column naming the entity of each row (country, platform ...).")
@click.option(
    "--horizon",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also forecast the total and every entity this many periods ahead, reconciled so "
    "that the total equals the sum of the entities.",
)
@click.option(
    "--reconcile",
    "reconciliation",
    type=click.Choice(["ols", "wls_struct", "wls_var", "mint_shrink"]),
    default="mint_shrink",
    show_default=True,
    help="Reconciliation method for --horizon.",
)
def panel_analyse(
    file: Path,
    date_col: str,
    value_col: str,
    entity_col: str,
    freq: str | None,
    agg: str,
    as_json: bool,
    horizon: int,
    reconciliation: str,
) -> None:
    """Analyse FILE.csv, one row per date and entity: per-entity trends and lists of movers.

    \b
    Every entity is put on the same calendar (explicit zeros where it has no row). With --json:
      entities   [{entity, total, trend {direction, slope, p_value ...},
                   growth {year_on_year, recent}, changepoints [...],
                   status {status, baseline_mean, recent_mean, ratio, shares}}]
      total      trend and anomalies of the panel total; each anomaly's attribution lists the
                 entities explaining it (excess over their usual share, share of the total excess)
      emerging   entities accelerating from a low base (recent mean >= 3x the baseline, baseline
                 share <= 5 %, recent mean >= 5)
      vanishing  entities collapsing to near zero (recent <= 10 % of a baseline mean >= 5, and
                 <= 1 per period or <= 0.5 % of the panel)
      dropping   large drops that leave a large volume; rising: +50 % or more, not emerging
      forecast   with --horizon: [{node, date, yhat, yhat_lower, yhat_upper, base_yhat, model}]
      skipped    [{statistic, reason}]: statistics too few points ruled out (null in the output)
    Recent = last 3 months / 8 weeks / 28 days / 2 quarters / 1 year; baseline = the 12 months /
    26 weeks / 91 days / 4 quarters / 2 years before. A panel needs 8 periods, a yearly one 4:
    with 4-7 years, statuses and growth as usual, the trend test only from 5 years (and noted as
    weak); change points, the total's anomalies and the forecast are skipped. Same input, same output.
    """
    from analytics.analyse import with_horizon
    from analytics.panel import analyse_panel
    from analytics.results import AnalysisParams
    from analytics.series import read_panel

    panel = read_panel(file, date_col, entity_col, value_col, freq=freq, agg=agg)
    params = with_horizon(AnalysisParams(), horizon)
    result = analyse_panel(panel, params, reconciliation=reconciliation)
    payload = result.to_dict()
    payload["series"].update(
        {"file": str(file), "date_col": date_col, "entity_col": entity_col, "value_col": value_col}
    )
    if as_json:
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        _print_panel(payload)


# ---------------------------------------------------------------------------------------------
# Readable summaries
# ---------------------------------------------------------------------------------------------


def _console():
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=False, width=120)
    return console


def _label(date: str, freq: str) -> str:
    import pandas as pd

    stamp = pd.Timestamp(date)
    if freq == "M":
        return stamp.strftime("%Y-%m")
    if freq == "Q":
        return f"{stamp.year}-Q{stamp.quarter}"
    if freq == "Y":
        return str(stamp.year)
    if freq == "W":
        year, week, _ = stamp.isocalendar()
        return f"{year}-W{week:02d}"
    return stamp.date().isoformat()


def _num(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:+.1f} %"


def _growth_text(item, what: str) -> str:
    if not item:
        return f"{what}: not enough history"
    if item["growth"] is None:
        return f"{what}: from a zero base"
    return (
        f"{what} {_pct(item['growth'])} ({item['level'] * 100:.0f} % CI {_pct(item['lower'])} to {_pct(item['upper'])})"
    )


def _trend_text(trend: dict) -> str:
    """Direction, Sen's slope per period (and per year unless the period is a year), test and p-value."""
    p = trend["p_value"]
    shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    yearly = "" if trend["unit"] == "per year" else f" ({trend['slope_per_year']:+.4g} per year)"
    return f"{trend['direction']}: {trend['slope']:+.4g} {trend['unit']}{yearly}, {trend['test']}, {shown}"


def _print_series(d: dict) -> None:
    from rich.table import Table

    out = _console()
    s, freq = d["series"], d["series"]["freq"]
    out.print(
        f"[bold]{s['file']}[/bold]  {s['value_col']} by {s['date_col']}: {s['n']} periods "
        f"({freq}) {_label(s['start'], freq)} to {_label(s['end'], freq)}"
    )
    for note in d["notes"]:
        out.print(f"  note: {note}")
    season = d["seasonality"]
    strength = season["seasonal_strength"]
    out.print(f"trend        {_trend_text(d['trend'])}")
    out.print(
        f"seasonality  {'seasonal' if season['seasonal'] else 'not seasonal'} "
        f"(season {season['season_length']}{'' if strength is None else f', strength {strength:.2f}'})"
    )
    out.print(f"growth       {_growth_text(d['growth']['year_on_year'], 'year on year')}")
    recent = d["growth"]["recent"]
    what = f"last {recent['window']} vs previous {recent['window']}" if recent else "recent"
    out.print(f"             {_growth_text(recent, what)}")
    _print_table(
        out,
        "change points",
        ("date", "direction", "before", "after", "change", "confidence"),
        [
            (
                _label(c["date"], freq),
                c["direction"],
                _num(c["level_before"]),
                _num(c["level_after"]),
                _pct(c["relative_change"]),
                f"{c['confidence']:.2f}",
            )
            for c in d["changepoints"]
        ],
    )
    _print_table(
        out,
        "anomalies",
        ("date", "kind", "value", "expected", "change", "score"),
        [
            (
                _label(a["date"], freq),
                a["direction"],
                _num(a["value"]),
                _num(a["expected"]),
                _pct(a["relative"]),
                f"{a['score']:+.1f}",
            )
            for a in d["anomalies"]
        ],
    )
    model = d["model"]
    if model:
        baseline = next((c for c in model["candidates"] if c["model"] == "seasonal_naive"), None)
        versus = f", seasonal naive {baseline['mase']:.2f}" if baseline and baseline["mase"] is not None else ""
        back = model["backtest"]
        covered = f"{back['level'] * 100:.0f} % intervals covered {back['coverage'] * 100:.0f} % of backtest actuals"
        if model.get("interval") == "calibrated":
            covered = (
                f"{back['level'] * 100:.0f} % intervals: the model's own covered {back['coverage'] * 100:.0f} % of "
                f"backtest actuals; calibrated on the backtest errors (x {back['calibration_factor']:.2f})"
            )
            if back.get("calibrated_coverage") is not None:
                covered += f", {back['calibrated_coverage'] * 100:.0f} % of later folds' actuals"
        out.print(
            f"forecast     {model['name']}: backtest MASE {back['mase']:.2f}{versus} ({back['folds']} folds x "
            f"{back['horizon']}); {covered}"
        )
        table = Table(show_edge=False)
        for column in ("date", "forecast", "lower", "upper"):
            table.add_column(column, justify="left" if column == "date" else "right")
        for f in d["forecast"]:
            table.add_row(
                _label(f["date"], freq), _num(f["yhat"], 4), _num(f["yhat_lower"], 4), _num(f["yhat_upper"], 4)
            )
        out.print(table)
    else:
        out.print("forecast     none")


def _print_panel(d: dict) -> None:
    from rich.table import Table

    out = _console()
    s, freq = d["series"], d["series"]["freq"]
    out.print(
        f"[bold]{s['file']}[/bold]  {s['value_col']} by {s['date_col']} and {s['entity_col']}: "
        f"{s['entities']} entities x {s['n']} periods ({freq}) {_label(s['start'], freq)} to {_label(s['end'], freq)}"
    )
    for note in d["notes"]:
        out.print(f"  note: {note}")
    total_trend = d["total"]["trend"]
    out.print(f"total        {_trend_text(total_trend) if total_trend else 'trend not tested (see skipped)'}")
    table = Table(title="entities", title_justify="left")
    for column in ("entity", "total", "trend", "slope/period", "year on year", "recent", "breaks", "status"):
        table.add_column(column, justify="left" if column in ("entity", "trend", "status") else "right")
    for e in d["entities"]:
        yoy, recent, trend, breaks = (
            e["growth"]["year_on_year"],
            e["growth"]["recent"],
            e["trend"],
            e["changepoints"],
        )
        table.add_row(
            e["entity"],
            _num(e["total"]),
            trend["direction"] if trend else "-",
            f"{trend['slope']:+.3g}" if trend else "-",
            _pct(yoy["growth"]) if yoy else "-",
            _pct(recent["growth"]) if recent else "-",
            "-" if breaks is None else str(len(breaks)),
            e["status"]["status"],
        )
    out.print(table)
    for status in ("emerging", "vanishing", "dropping", "rising"):
        out.print(f"{status:<12} {', '.join(d[status]) or 'none'}")
    for skipped in d["skipped"]:
        out.print(f"skipped      {skipped['statistic']}: {skipped['reason']}")
    for a in d["total"]["anomalies"] or []:
        top = ", ".join(f"{c['entity']} {c['share'] * 100:.0f} %" for c in a["attribution"] if c["share"] is not None)
        explained = f"; explained by {top}" if top else ""
        out.print(
            f"anomaly      {_label(a['date'], freq)} {a['direction']} {_num(a['value'])} vs {_num(a['expected'])} "
            f"expected{explained}"
        )
    if d["forecast"]:
        out.print(
            f"forecast     {len({f['node'] for f in d['forecast']})} node(s) reconciled "
            f"({d['parameters']['forecast']['horizon']} periods); use --json for the values"
        )


def _print_table(out, title: str, columns: tuple[str, ...], rows: list[tuple], text_columns: int = 2) -> None:
    """A titled table (the first `text_columns` left-aligned, numbers right), or '<title>: none'."""
    from rich.table import Table

    if not rows:
        out.print(f"{title}: none")
        return
    table = Table(title=title, title_justify="left")
    for n, column in enumerate(columns):
        table.add_column(column, justify="left" if n < text_columns else "right")
    for row in rows:
        table.add_row(*row)
    out.print(table)
