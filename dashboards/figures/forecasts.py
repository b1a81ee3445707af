"""Figures of the Forecasts page: a forecast with its prediction interval after the history, and the
backlog projection against analyst capacity. DataFrames in, plotly figures out.

Colour keeps its meaning: history blue, the chosen model's forecast orange (dashed, with its band),
the reconciled forecast green (dotted), capacity black. Line styles differ too, so colour is never
the only cue.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import PALETTE, base_layout, iso_days, merged, traces

HISTORY, FORECAST, RECONCILED, CAPACITY, ARRIVALS = PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[6], PALETTE[5]
MODEL_LABELS = {
    "seasonal_naive": "Seasonal naive",
    "drift": "Drift (random walk with drift)",
    "theta": "Theta",
    "theta_log": "Theta on the log scale",
    "arima": "ARIMA (autoregressive)",
    "ets": "ETS (exponential smoothing)",
    "ets_log": "ETS on the log scale",
    "ets_damped": "ETS (damped trend)",
    "combo": "Combination (mean of the statistical models)",
    "sarima": "SARIMA",
    "prophet": "Prophet",
}
FORECAST_COLUMNS = (
    "date",
    "actual",
    "forecast",
    "forecast_lower",
    "forecast_upper",
    "reconciled",
    "reconciled_lower",
    "reconciled_upper",
)
BACKLOG_COLUMNS = ("date", "arrivals", "capacity", "backlog", "backlog_lower", "backlog_upper", "p_growing")


def model_label(name: str) -> str:
    """A forecasting model's name for people: 'ets_log' -> 'ETS on the log scale'."""
    return MODEL_LABELS.get(name, name)


def _rgba(hex_colour: str, alpha: float) -> str:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s): {', '.join(missing)}")


def _band(fig: go.Figure, x, lower, upper, colour: str, name: str, group: str, alpha: float = 0.18) -> None:
    """A shaded interval: the upper edge, then the lower edge filled up to it."""
    fig.add_trace(
        traces.scatter(
            x=x,
            y=upper,
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
            name=f"{name} upper",
        )
    )
    fig.add_trace(
        traces.scatter(
            x=x,
            y=lower,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=_rgba(colour, alpha),
            name=name,
            legendgroup=group,
            hoverinfo="skip",
        )
    )


def forecast_figure(frame: pd.DataFrame, title: str, level: float, model: str, unit: str = "count") -> go.Figure:
    """History (line and markers), the forecast (dashed) in its shaded `level` interval, and — when
    the frame has them — the reconciled values (dotted). A vertical line marks where the forecast starts.

    `frame` has `FORECAST_COLUMNS`, one row per period; history rows have `actual`, forecast rows
    `forecast` (NaN where absent).
    """
    _require(frame, FORECAST_COLUMNS, "forecast")
    past = frame[frame["actual"].notna()]
    future = frame[frame["forecast"].notna()]
    counts = unit in ("count", "stock", "distinct")
    number = ",.0f" if counts else ",.3~g"
    x = iso_days(future["date"])
    layout = merged(
        base_layout(title),
        _forecast_start(x[0]) if x else {},
        # Shares and means: the base ",d" would round them to 0.
        {} if counts else {"yaxis": {"tickformat": ",~g"}},
        {"hovermode": "x unified"},
    )
    fig = traces.figure(layout=layout)
    if not past.empty:
        fig.add_trace(
            traces.scatter(
                x=iso_days(past["date"]),
                y=_floats(past["actual"]),
                name="Observed",
                mode="lines+markers",
                line={"color": HISTORY, "width": 2.5},
                marker={"color": HISTORY, "size": 5, "symbol": "circle"},
                hovertemplate=f"%{{y:{number}}}<extra>Observed</extra>",
            )
        )
    if not future.empty:
        _band(
            fig,
            x,
            _floats(future["forecast_lower"]),
            _floats(future["forecast_upper"]),
            FORECAST,
            f"{level:.0%} prediction interval",
            "forecast",
        )
        fig.add_trace(
            traces.scatter(
                x=x,
                y=_floats(future["forecast"]),
                name=f"Forecast ({model})",
                legendgroup="forecast",
                mode="lines+markers",
                line={"color": FORECAST, "width": 2.5, "dash": "dash"},
                marker={"color": FORECAST, "size": 6, "symbol": "diamond"},
                customdata=[
                    [lo, hi] for lo, hi in zip(_floats(future["forecast_lower"]), _floats(future["forecast_upper"]))
                ],
                hovertemplate=(
                    f"%{{y:{number}}} (%{{customdata[0]:{number}}} to "
                    f"%{{customdata[1]:{number}}})<extra>Forecast</extra>"
                ),
            )
        )
        reconciled = future[future["reconciled"].notna()]
        if not reconciled.empty:
            fig.add_trace(
                traces.scatter(
                    x=iso_days(reconciled["date"]),
                    y=_floats(reconciled["reconciled"]),
                    name="Reconciled forecast",
                    mode="lines+markers",
                    line={"color": RECONCILED, "width": 2, "dash": "dot"},
                    marker={"color": RECONCILED, "size": 6, "symbol": "square"},
                    hovertemplate=f"%{{y:{number}}}<extra>Reconciled</extra>",
                )
            )
    return fig


def _forecast_start(start: str) -> dict:
    """The layout's vertical line and label where the forecast starts."""
    return {
        "shapes": [
            {
                "type": "line",
                "x0": start,
                "x1": start,
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": "#9AA5B1", "width": 1, "dash": "dot"},
            }
        ],
        "annotations": [
            {
                "x": start,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": "forecast →",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 11, "color": "#52606D"},
            }
        ],
    }


def backlog_figure(frame: pd.DataFrame, title: str, level: float = 0.8) -> go.Figure:
    """Projected backlog (median line in its shaded interval) with the forecast arrivals per period
    (bars) and the capacity per period (black steps): the backlog grows when bars top the steps.

    `frame` has `BACKLOG_COLUMNS` (as `analytics.capacity.project_backlog` returns).
    """
    _require(frame, BACKLOG_COLUMNS, "backlog")
    fig = traces.figure(layout=merged(base_layout(title), {"yaxis": {"title": {"text": "Referrals"}}, "bargap": 0.35}))
    x = iso_days(frame["date"])
    fig.add_trace(
        traces.bar(
            x=x,
            y=_floats(frame["arrivals"]),
            name="Forecast arrivals per period",
            marker={"color": _rgba(ARRIVALS, 0.55), "line": {"color": ARRIVALS, "width": 1}},
            hovertemplate="%{y:,.0f}<extra>Arrivals</extra>",
        )
    )
    fig.add_trace(
        traces.scatter(
            x=x,
            y=_floats(frame["capacity"]),
            name="Capacity per period",
            mode="lines",
            line={"color": CAPACITY, "width": 2, "dash": "dash", "shape": "hvh"},
            hovertemplate="%{y:,.0f}<extra>Capacity</extra>",
        )
    )
    _band(
        fig,
        x,
        _floats(frame["backlog_lower"]),
        _floats(frame["backlog_upper"]),
        HISTORY,
        f"Backlog {level:.0%} interval",
        "backlog",
        alpha=0.2,
    )
    fig.add_trace(
        traces.scatter(
            x=x,
            y=_floats(frame["backlog"]),
            name="Backlog (median)",
            legendgroup="backlog",
            mode="lines+markers",
            line={"color": HISTORY, "width": 3},
            marker={"color": HISTORY, "size": 7, "symbol": "circle"},
            customdata=[[p * 100] for p in _floats(frame["p_growing"])],
            hovertemplate="%{y:,.0f} open (P(grows) %{customdata[0]:.0f} %)<extra>Backlog</extra>",
        )
    )
    return fig
