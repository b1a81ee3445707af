"""Forecasts (`/forecasts`): one analysed series' forecast with prediction intervals, the backtest
scores of every candidate model and why one was chosen, and the referral backlog projected against
an analyst capacity chosen with a slider.

The series is the metric x grain of the page for the EU total, or for the one country or platform
chosen in the filters; everything lives in the URL (`?metric=files&grain=week&country=DEU&capacity=40`).
Results come from the latest `grace analyse` run. Logic: `dashboards.callbacks.forecasts`; the
callbacks here only adapt.
"""

from __future__ import annotations

from typing import Literal

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.dash_table.DataTable import DataTable

from dashboards import ids
from dashboards.callbacks import forecasts as logic
from dashboards.components import (
    aria,
    chart_card,
    filter_bar,
    filter_field,
    invalid_view,
    page_header,
    radio_field,
    section_card,
    status_area,
)
from dashboards.readers import reader_of
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import chart_outputs, record_view, register_filter_bar, register_state_sync, scope_state
from grace.vocabulary import metric_title

PAGE = "forecasts"
dash.register_page(__name__, path=logic.PAGE_PATH, name="Forecasts", title="Forecasts · GRACE Trends", order=2)
register_filter_bar(PAGE)
register_state_sync(
    PAGE,
    logic.PAGE_PATH,
    ids.FORECASTS_STATE,
    {
        "metric": (ids.FORECASTS_METRIC, "value"),
        "grain": (ids.FORECASTS_GRAIN, "value"),
    },
)

CANDIDATE_TABLE_COLUMNS: list[tuple[str, str, Literal["text", "numeric"]]] = [
    ("label", "Model", "text"),
    ("mase", "MASE", "numeric"),
    ("mae", "MAE", "numeric"),
    ("rmse", "RMSE", "numeric"),
    ("coverage", "Interval coverage (model's own)", "numeric"),
    ("calibrated_coverage", "Interval coverage (calibrated)", "numeric"),
    ("folds", "Folds", "numeric"),
    ("horizon", "Periods ahead", "numeric"),
    ("chosen_mark", "Chosen", "text"),
]


def candidates_table() -> DataTable:
    """Backtest scores, one row per candidate model (the chosen one highlighted)."""
    specs: list[DataTable.Columns] = []
    for key, name, kind in CANDIDATE_TABLE_COLUMNS:
        spec: DataTable.Columns = {"id": key, "name": name, "type": kind}
        if key in ("coverage", "calibrated_coverage"):
            spec["format"] = {"specifier": ".0%"}
        elif kind == "numeric":
            spec["format"] = {"specifier": ",.3~f"}
        specs.append(spec)
    return DataTable(
        id=ids.FORECASTS_CANDIDATES,
        data=[],
        sort_action="native",
        columns=specs,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "fontSize": "0.9rem", "padding": "4px 8px", "textAlign": "left"},
        style_header={"fontWeight": "600", "backgroundColor": "#F5F7FA"},
        style_data_conditional=[
            {"if": {"filter_query": '{chosen_mark} = "✓ chosen"'}, "fontWeight": "600", "backgroundColor": "#E6F1F8"}
        ],
    )


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        state = ViewState.from_query(kwargs)
    except ViewStateError as error:
        return invalid_view(logic.PAGE_PATH, error)
    extra = [
        filter_field(
            "Metric",
            dcc.Dropdown(
                id=ids.FORECASTS_METRIC,
                value=state.metric,
                clearable=False,
                options=[{"label": metric_title(state.metric), "value": state.metric}],
                className="filter__control",
            ),
            help_text="Metrics forecast by the latest run.",
        ),
        radio_field("Grain", ids.FORECASTS_GRAIN, state.grain, {state.grain: logic.GRAIN_LABELS[state.grain]}),
    ]
    slider = filter_field(
        "Capacity: referrals triaged per day",
        dcc.Slider(
            id=ids.FORECASTS_CAPACITY,
            min=1,
            max=10,
            step=1,
            value=state.capacity,
            marks=None,
            tooltip={"placement": "bottom", "always_visible": True},
            updatemode="mouseup",
        ),
        help_text="Default: the recent triage rate. Move it to see the backlog under another capacity.",
    )
    return html.Div(
        [
            page_header(
                PAGE,
                "Forecasts",
                "Forecasts with prediction intervals, how the model was chosen, and the backlog against capacity.",
            ),
            filter_bar(PAGE, state, extra=extra),
            dcc.Store(id=ids.FORECASTS_STATE, data=state.to_query()),
            dcc.Store(id=ids.FORECASTS_CAPACITY_DEFAULT),
            status_area(ids.FORECASTS_STATUS),
            html.P("", id=ids.FORECASTS_RUN, className="chart-card__note"),
            chart_card(logic.FORECAST_CHART, height=460),
            dbc.Row(
                [
                    dbc.Col(section_card("Why this model", html.P("", id=ids.FORECASTS_WHY, className="mb-0")), lg=5),
                    dbc.Col(
                        section_card(
                            "Backtest scores of the candidate models",
                            html.Div(
                                [
                                    dcc.Loading(candidates_table(), type="dot", delay_show=300),
                                    html.P("", id=ids.FORECASTS_CANDIDATES_NOTE, className="chart-card__note"),
                                ]
                            ),
                            subtitle="Rolling-origin backtest; the lowest MASE wins. Coverage: share of backtest actuals "
                            "inside the prediction interval.",
                        ),
                        lg=7,
                    ),
                ],
                className="g-3 mb-3",
            ),
            chart_card(logic.BACKLOG_CHART, height=420, controls=slider),
            html.P("", id=ids.FORECASTS_BACKLOG_SUMMARY, className="lead-sm", role="status", **aria(live="polite")),
        ],
        id=ids.FORECASTS_PAGE,
        className="forecasts",
    )


def _reader():
    return reader_of(dash.get_app())


def _state(query) -> ViewState:
    return scope_state(ViewState.from_query(query or ""))


@callback(
    Output(ids.FORECASTS_METRIC, "options"),
    Output(ids.FORECASTS_GRAIN, "options"),
    Input(ids.FORECASTS_METRIC, "id"),
    State(ids.FORECASTS_STATE, "data"),
)
def _options(_id, query):
    found = logic.options(_reader(), _state(query))
    return found.metric_options, found.grain_options


@callback(
    *chart_outputs(logic.FORECAST_CHART),
    Output(ids.FORECASTS_STATUS, "children"),
    Output(ids.FORECASTS_WHY, "children"),
    Output(ids.FORECASTS_RUN, "children"),
    Input(ids.FORECASTS_STATE, "data"),
)
def _draw_forecast(query):
    view = logic.draw_forecast(_reader(), _state(query))
    status = dbc.Alert(view.status, color="info", className="grace-alert mb-3") if view.status else None
    return view.figure, view.subtitle, view.note, status, view.model, view.run


@callback(
    Output(ids.FORECASTS_CANDIDATES, "data"),
    Output(ids.FORECASTS_CANDIDATES_NOTE, "children"),
    Input(ids.FORECASTS_STATE, "data"),
)
def _candidates(query):
    view = logic.candidate_scores(_reader(), _state(query))
    rows = [{**row, "chosen_mark": "✓ chosen" if row["chosen"] else ""} for row in view.rows]
    return rows, view.note


@callback(
    Output(ids.FORECASTS_CAPACITY, "min"),
    Output(ids.FORECASTS_CAPACITY, "max"),
    Output(ids.FORECASTS_CAPACITY, "marks"),
    Output(ids.FORECASTS_CAPACITY, "value"),
    Output(ids.FORECASTS_CAPACITY, "disabled"),
    Output(ids.FORECASTS_CAPACITY_DEFAULT, "data"),
    Input(ids.FORECASTS_GRAIN, "value"),
    State(ids.FORECASTS_STATE, "data"),
)
def _capacity_range(grain, query):
    state = _state(query).with_changes(grain=grain or "month")
    found = logic.backlog_defaults(_reader(), state)
    if found.default is None:
        return 1, 10, {}, None, True, None
    value = min(max(state.capacity or found.default, found.minimum), found.maximum)
    return found.minimum, found.maximum, found.marks, value, False, found.default


@callback(
    Output(ids.FORECASTS_STATE, "data", allow_duplicate=True),
    Output(ids.URL_SYNC, "search", allow_duplicate=True),
    Input(ids.FORECASTS_CAPACITY, "value"),
    State(ids.FORECASTS_CAPACITY_DEFAULT, "data"),
    State(ids.FORECASTS_STATE, "data"),
    State(ids.FORECASTS_GRAIN, "value"),
    prevent_initial_call=True,
)
def _sync_capacity(value, default, query, grain):
    """The slider into the page's state and the address bar (the default capacity stays out of the URL).

    A grain change moves the slider too (`_capacity_range`), and this may run before the page's state has
    the new grain: the grain is taken from its control, so the slider never writes the old grain back.
    """
    try:
        state = ViewState.from_query(query or "")
    except ViewStateError:
        return dash.no_update, dash.no_update
    if grain and grain != state.grain:
        state = state.with_changes(grain=grain)
    capacity = logic.capacity_for_state(value, default)
    if capacity == state.capacity and query == state.to_query():
        return dash.no_update, dash.no_update
    query = state.with_changes(capacity=capacity).to_query()
    record_view(logic.PAGE_PATH, query)
    return query, query


@callback(
    *chart_outputs(logic.BACKLOG_CHART),
    Output(ids.FORECASTS_BACKLOG_SUMMARY, "children"),
    Input(ids.FORECASTS_STATE, "data"),
)
def _draw_backlog(query):
    view = logic.draw_backlog(_reader(), _state(query))
    return view.figure, view.subtitle, view.note, view.summary
