"""A panel of entities (countries, platforms ...): per-entity trend, growth and change points, the
total's anomalies attributed to entities, emerging / vanishing / dropping / rising lists, and optional
forecasts reconciled so that the total equals the sum of the entities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.anomalies import detect_anomalies
from analytics.attribution import attribute
from analytics.changepoints import detect_changepoints
from analytics.emerging import classify_entities, lists
from analytics.forecast import forecast, min_points, single_threaded
from analytics.reconcile import reconcile, summing_matrix
from analytics.results import AnalysisParams, EntityAnalysis, ForecastParams, PanelAnalysis
from analytics.seasonality import seasonality, seasonality_and_parts
from analytics.series import RegularPanel
from analytics.trend import growth_summary, mann_kendall

MIN_POINTS = 8


def analyse_panel(
    panel: RegularPanel, params: AnalysisParams = AnalysisParams(), reconciliation: str = "mint_shrink"
) -> PanelAnalysis:
    """Every per-entity detector, the total's attributed anomalies, status lists and (if
    `params.forecast.horizon` > 0) reconciled forecasts."""
    total = panel.total()
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
        notes=panel.notes,
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
