"""A panel of entities (countries, platforms ...): per-entity trend, growth and change points, the
total's anomalies attributed to entities, emerging / vanishing / dropping / rising lists, and optional
forecasts reconciled so that the total equals the sum of the entities.

Panels need MIN_POINTS (8) periods, except yearly ones: published statistics by platform or country
often cover only 5-7 years, so a yearly panel of MIN_YEARLY_POINTS (4) to 7 years gets what such a
series supports (`analyse_short_yearly_panel`) and names the statistics it skipped, with the reason.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from analytics.anomalies import detect_anomalies
from analytics.attribution import attribute
from analytics.changepoints import detect_changepoints
from analytics.emerging import classify_entities, lists
from analytics.forecast import forecast, min_points, single_threaded
from analytics.reconcile import reconcile, summing_matrix
from analytics.results import (
    AnalysisParams,
    Anomaly,
    EntityAnalysis,
    EntityStatus,
    ForecastParams,
    GrowthResult,
    PanelAnalysis,
    SkippedStatistic,
    TrendResult,
)
from analytics.seasonality import seasonality, seasonality_and_parts
from analytics.series import RegularPanel, RegularSeries
from analytics.trend import growth_summary, mann_kendall, smallest_p_value

MIN_POINTS = 8  # every statistic (change points, anomalies, seasonality, and a forecast from min_points)
MIN_YEARLY_POINTS = 4  # a yearly panel: statuses and growth, a trend test where it can reach significance


def analyse_panel(
    panel: RegularPanel, params: AnalysisParams = AnalysisParams(), reconciliation: str = "mint_shrink"
) -> PanelAnalysis:
    """Every per-entity detector, the total's attributed anomalies, status lists and (if
    `params.forecast.horizon` > 0) reconciled forecasts. A yearly panel shorter than MIN_POINTS goes
    to `analyse_short_yearly_panel`."""
    total = panel.total()
    if is_short_yearly(panel.freq, total.n):
        return analyse_short_yearly_panel(panel, params)
    total.require(MIN_POINTS, "panel analysis")
    horizon = params.forecast.horizon
    if horizon:
        total.require(min_points(horizon), f"a {horizon}-period forecast with a backtest")
    with single_threaded():
        season, parts = seasonality_and_parts(total.y, total.season_length, params.trend.seasonal_alpha)
        total_trend = mann_kendall(total, params.trend, season.seasonal)
        total_breaks = detect_changepoints(total, params.changepoints, season.seasonal, parts["seasonal"].to_numpy())
        total_anomalies = attribute(
            panel, detect_anomalies(total, params.anomalies, season.seasonal, total_breaks.changepoints, parts)
        )
        statuses = {s.entity: s for s in classify_entities(panel, params.emerging)}
        entities = []
        for name in panel.entities:
            series = panel.series(name)
            verdict, entity_parts = seasonality_and_parts(series.y, series.season_length, params.trend.seasonal_alpha)
            seasonal = verdict.seasonal
            entities.append(
                EntityAnalysis(
                    entity=name,
                    total=float(series.y.sum()),
                    trend=mann_kendall(series, params.trend, seasonal),
                    growth=growth_summary(series, params.growth_level),
                    changepoints=detect_changepoints(
                        series, params.changepoints, seasonal, entity_parts["seasonal"].to_numpy()
                    ).changepoints,
                    status=statuses[name],
                )
            )
        outlook = forecast_panel(panel, params.forecast, reconciliation) if horizon else None
    return _panel_result(panel, total, entities, statuses, params, total_trend, total_anomalies, outlook)


def is_short_yearly(freq: str, n: int) -> bool:
    """Yearly and shorter than MIN_POINTS: analysed with the short-series rules. Only yearly: on 4-7
    months, weeks or days the window comparisons would mix the season into the statuses."""
    return freq == "Y" and n < MIN_POINTS


def analyse_short_yearly_panel(panel: RegularPanel, params: AnalysisParams = AnalysisParams()) -> PanelAnalysis:
    """A yearly panel of MIN_YEARLY_POINTS to MIN_POINTS - 1 years: what so few years support.

    - statuses (emerging, vanishing, dropping, rising) as for any panel: the last year against the two
      before it (`analytics.emerging`), three years whatever the length, so earlier years never change
      a status;
    - growth: the last year against the year before, without its interval (skipped: its spread would
      come from 3-6 year-to-year differences);
    - the Mann-Kendall trend only where it can reach `alpha` at all (from 5 points at 0.05), with a note
      that it is weak;
    - no change points, anomalies of the total or forecast (skipped, with the reason). Yearly data have
      no season, so nothing is deseasonalised.
    """
    total = panel.total()
    total.require(MIN_YEARLY_POINTS, "a yearly panel analysis (emerging, vanishing, dropping, rising)")
    skipped = short_panel_skips(total.n, params)
    test_trend = "trend" not in {s.statistic for s in skipped}
    statuses = {s.entity: s for s in classify_entities(panel, params.emerging)}
    entities = [_short_entity(panel.series(name), statuses[name], params, test_trend) for name in panel.entities]
    total_trend = mann_kendall(total, params.trend) if test_trend else None
    notes = (weak_trend_note(total.n),) if test_trend else ()
    return _panel_result(
        panel, total, entities, statuses, params, total_trend, None, None, skipped=skipped, notes=notes
    )


def short_panel_skips(n: int, params: AnalysisParams) -> tuple[SkippedStatistic, ...]:
    """The statistics a yearly panel of `n` (< MIN_POINTS) years does not compute, each with its reason."""
    found = (
        _trend_skip(n, params.trend.alpha),
        _growth_interval_skip(n),
        _changepoints_skip(n, params.changepoints.min_size),
        _anomalies_skip(n),
        _forecast_skip(n, params.forecast.horizon),
    )
    return tuple(s for s in found if s is not None)


def _trend_skip(n: int, alpha: float) -> SkippedStatistic | None:
    """Skip Mann-Kendall where no series of `n` points could be significant at `alpha` (n = 4 at 0.05)."""
    floor = smallest_p_value(n)
    if floor < alpha:
        return None
    return SkippedStatistic(
        "trend",
        f"Mann-Kendall on {n} points cannot reach p < {alpha:g}: even a strictly monotone series gives p = {floor:.2g}",
    )


def _growth_interval_skip(n: int) -> SkippedStatistic:
    """The growth interval's spread is the MAD of the n - 1 year-to-year differences: too few below 8 years."""
    return SkippedStatistic(
        "growth interval",
        f"growth is reported without an interval: one needs at least {MIN_POINTS} points ({MIN_POINTS - 1} "
        f"year-to-year differences to estimate its spread from); the panel has {n}",
    )


def _changepoints_skip(n: int, min_size: int) -> SkippedStatistic:
    """A piecewise-linear break needs `min_size` points a side and a noise scale: not on 4-7 points."""
    return SkippedStatistic(
        "changepoints",
        f"a structural break needs at least {MIN_POINTS} points ({min_size} on each side to fit a line to, "
        f"and more to tell a break from noise); the panel has {n}",
    )


def _anomalies_skip(n: int) -> SkippedStatistic:
    """A robust z of a few residuals around a trend fitted to the same points is not a basis for a spike."""
    return SkippedStatistic(
        "anomalies",
        f"spikes and dips of the total need at least {MIN_POINTS} points (the spread of a few residuals around "
        f"a trend fitted to those same points is too unstable to score them against); the panel has {n}",
    )


def _forecast_skip(n: int, horizon: int) -> SkippedStatistic | None:
    """A requested forecast (horizon > 0) needs a rolling-origin backtest: skipped (not refused) so the
    statuses still come out, also with the Python API's default 12-period horizon."""
    if not horizon:
        return None
    return SkippedStatistic(
        "forecast",
        f"a {horizon}-period forecast with a backtest needs at least {max(MIN_POINTS, min_points(horizon))} "
        f"points (the backtest holds the last ones back to test on); the panel has {n}",
    )


def weak_trend_note(n: int) -> str:
    """The caveat printed with a trend test on a short yearly panel."""
    return (
        f"trend: Mann-Kendall on {n} yearly points has little power (p = {smallest_p_value(n):.2g} at best, "
        "for a strictly monotone series); 'no trend' means too few years to tell, not a stable series"
    )


def _short_entity(
    series: RegularSeries, status: EntityStatus, params: AnalysisParams, test_trend: bool
) -> EntityAnalysis:
    """One entity of a short yearly panel: change points skipped (None), growth without its interval,
    the trend only if tested."""
    return EntityAnalysis(
        entity=status.entity,
        total=float(series.y.sum()),
        trend=mann_kendall(series, params.trend) if test_trend else None,
        growth={key: _without_interval(g) for key, g in growth_summary(series, params.growth_level).items()},
        changepoints=None,
        status=status,
    )


def _without_interval(result: GrowthResult | None) -> GrowthResult | None:
    """The growth with its confidence bounds removed (None): too few differences to estimate them."""
    return None if result is None else dataclasses.replace(result, lower=None, upper=None)


def _panel_result(
    panel: RegularPanel,
    total: RegularSeries,
    entities: list[EntityAnalysis],
    statuses: dict[str, EntityStatus],
    params: AnalysisParams,
    total_trend: TrendResult | None,
    total_anomalies: tuple[Anomaly, ...] | None,
    outlook: pd.DataFrame | None,
    skipped: tuple[SkippedStatistic, ...] = (),
    notes: tuple[str, ...] = (),
) -> PanelAnalysis:
    """The `PanelAnalysis` of a long or short panel: status lists, the panel's notes, then `notes`."""
    named = lists(list(statuses.values()))
    return PanelAnalysis(
        freq=panel.freq,
        start=total.ds[0],
        end=total.ds[-1],
        n=total.n,
        entities=tuple(entities),
        total_trend=total_trend,
        total_anomalies=total_anomalies,
        emerging=named["emerging"],
        vanishing=named["vanishing"],
        dropping=named["dropping"],
        rising=named["rising"],
        parameters=params,
        forecast=outlook,
        notes=panel.notes + notes,
        skipped=skipped,
    )


def total_label(entities: list[str]) -> str:
    return "total" if "total" not in entities else "total (all entities)"


def forecast_panel(
    panel: RegularPanel, params: ForecastParams = ForecastParams(), method: str = "mint_shrink"
) -> pd.DataFrame:
    """Forecast the total and every entity, then reconcile (see `analytics.reconcile`).

    Columns: node, date, yhat, yhat_lower, yhat_upper, base_yhat, model. The total's row comes first;
    after reconciliation it equals the sum of the entities' forecasts at every date.
    """
    entities = panel.entities
    label = total_label(entities)
    S, nodes = summing_matrix(entities, {label: entities})
    series = [panel.total()] + [panel.series(e) for e in entities]
    with single_threaded():
        results = [forecast(s, params, seasonality(s).seasonal) for s in series]
    base = np.vstack([[p.yhat for p in r.forecast] for r in results])
    lower = np.vstack([[p.yhat_lower for p in r.forecast] for r in results])
    upper = np.vstack([[p.yhat_upper for p in r.forecast] for r in results])
    errors = None
    if method in ("wls_var", "mint_shrink"):
        columns = []
        for r in results:
            if r.backtest.errors is None:  # `forecast` always keeps them; only a stored result lacks them
                raise ValueError(f"the {r.model} forecast kept no backtest errors to reconcile with")
            columns.append(r.backtest.errors.ravel())
        errors = np.column_stack(columns)
    coherent = reconcile(base, S, method, errors)
    shift = coherent - base
    dates = [p.date for p in results[0].forecast]
    rows = []
    for i, node in enumerate(nodes):
        for j, date in enumerate(dates):
            rows.append(
                {
                    "node": node,
                    "date": date,
                    "yhat": coherent[i, j],
                    "yhat_lower": lower[i, j] + shift[i, j],
                    "yhat_upper": upper[i, j] + shift[i, j],
                    "base_yhat": base[i, j],
                    "model": results[i].model,
                }
            )
    return pd.DataFrame(rows)
