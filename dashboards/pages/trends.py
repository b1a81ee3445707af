"""Trend explorer (`/trends`): any metric, grain and period; filter, split, compare; log scale, per capita.

Every control lives in the URL (`?metric=files&grain=week&split=platform&log=1`), so a view is a
link. Change points and anomalies from the latest `grace analyse` run are drawn on the chart;
clicking a line drills into that entity, clicking a point of an unsplit chart zooms into its
period. Logic: `dashboards.callbacks.trends`; the callbacks here only adapt.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from analytics.warehouse_series import SeriesRequestError
from dashboards import ids
from dashboards.callbacks import trends as logic
from dashboards.components import (
    GRAIN_LABELS,
    aria,
    chart_card,
    filter_bar,
    filter_field,
    invalid_view,
    page_header,
    radio_field,
)
from dashboards.readers import reader_of
from dashboards.state import GRAINS, ViewState, ViewStateError
from dashboards.wiring import register_filter_bar, register_state_sync, scope_state
from grace.errors import WarehouseError

PAGE = "trends"
dash.register_page(
    __name__, path=logic.PAGE_PATH, name="Trend explorer", title="Trend explorer · GRACE Trends", order=1
)
register_filter_bar(PAGE)
register_state_sync(
    PAGE,
    logic.PAGE_PATH,
    ids.TRENDS_STATE,
    {
        "metric": (ids.TRENDS_METRIC, "value"),
        "compare": (ids.TRENDS_COMPARE, "value"),
        "grain": (ids.TRENDS_GRAIN, "value"),
        "split": (ids.TRENDS_SPLIT, "value"),
        "channel": (ids.TRENDS_CHANNEL, "value"),
        "incident_type": (ids.TRENDS_INCIDENT_TYPE, "value"),
        "category": (ids.TRENDS_CATEGORY, "value"),
        "annotation": (ids.TRENDS_ANNOTATION, "value"),
        "log": (ids.TRENDS_LOG, "value"),
        "per_capita": (ids.TRENDS_PER_CAPITA, "value"),
    },
)


def _multi(component_id: str, values, placeholder: str) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=component_id,
        options=[{"label": v, "value": v} for v in values],
        value=list(values),
        multi=True,
        placeholder=placeholder,
        className="filter__control",
    )


def controls(state: ViewState) -> html.Div:
    """The page's own controls, initialised from `state` (options that need the warehouse load later)."""
    metrics = logic.metric_options()
    try:
        options = logic.control_options(state.metric)
    except SeriesRequestError:  # an unknown metric in a link: the chart says so; controls fall back
        options = logic.control_options("referrals")
    return html.Div(
        [
            filter_field(
                "Metric",
                dcc.Dropdown(
                    id=ids.TRENDS_METRIC,
                    options=metrics,
                    value=state.metric,
                    clearable=False,
                    className="filter__control",
                ),
                help_text=options.description,
                help_id=ids.TRENDS_METRIC_HELP,
            ),
            filter_field(
                "Compare with",
                dcc.Dropdown(
                    id=ids.TRENDS_COMPARE,
                    options=metrics,
                    value=state.compare,
                    placeholder="No second metric",
                    className="filter__control",
                ),
            ),
            filter_field(
                "Split by",
                dcc.Dropdown(
                    id=ids.TRENDS_SPLIT,
                    options=options.split_options,
                    value=state.split or "",
                    clearable=False,
                    className="filter__control",
                ),
            ),
            radio_field("Grain", ids.TRENDS_GRAIN, state.grain, {g: GRAIN_LABELS[g] for g in GRAINS}),
            filter_field("Channel", _multi(ids.TRENDS_CHANNEL, state.channel, "All channels")),
            filter_field("Incident type", _multi(ids.TRENDS_INCIDENT_TYPE, state.incident_type, "All incident types")),
            filter_field("Category", _multi(ids.TRENDS_CATEGORY, state.category, "All categories")),
            filter_field(
                "Annotation",
                dcc.Dropdown(
                    id=ids.TRENDS_ANNOTATION,
                    options=options.annotation_options,
                    value=list(state.annotation),
                    multi=True,
                    placeholder="Any annotation",
                    className="filter__control",
                ),
            ),
            filter_field(
                "Display",
                html.Div(
                    [
                        dbc.Switch(id=ids.TRENDS_LOG, label="Log scale", value=state.log),
                        dbc.Switch(
                            id=ids.TRENDS_PER_CAPITA,
                            label="Per 100,000 inhabitants",
                            value=state.per_capita,
                            disabled=not options.per_capita_allowed,
                        ),
                    ]
                ),
            ),
        ],
        className="filters trend-controls",
        role="group",
        **aria(label="Trend controls"),
    )


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        state = ViewState.from_query(kwargs)
    except ViewStateError as error:
        return invalid_view(logic.PAGE_PATH, error)
    return html.Div(
        [
            page_header(PAGE, "Trend explorer", "Any metric over time: filter, split, compare, drill down."),
            filter_bar(PAGE, state),
            controls(state),
            dcc.Store(id=ids.TRENDS_STATE, data=state.to_query()),
            html.Div(id=ids.TRENDS_STATUS, className="status", role="status"),
            chart_card(logic.TREND_CHART, height=520),
        ],
        id=ids.TRENDS_PAGE,
        className="trends",
    )


def _reader():
    return reader_of(dash.get_app())


@callback(
    Output(ids.TRENDS_CHANNEL, "options"),
    Output(ids.TRENDS_INCIDENT_TYPE, "options"),
    Output(ids.TRENDS_CATEGORY, "options"),
    Input(ids.TRENDS_CHANNEL, "id"),
)
def _load_dimension_options(_id):
    options = logic.dimension_options(_reader())
    return options["channel"], options["incident_type"], options["category"]


@callback(
    Output(ids.TRENDS_GRAIN, "options"),
    Output(ids.TRENDS_METRIC, "options"),
    Output(ids.TRENDS_COMPARE, "options"),
    Input(ids.TRENDS_GRAIN, "id"),
)
def _load_warehouse_limits(_id):
    """On a hub warehouse of monthly DP releases: no day or week, only the released metrics."""
    try:
        limits = logic.warehouse_limits(_reader())
    except WarehouseError:
        raise PreventUpdate from None
    return limits.grain_options, limits.metric_options, limits.metric_options


@callback(
    Output(ids.TRENDS_SPLIT, "options"),
    Output(ids.TRENDS_ANNOTATION, "options"),
    Output(ids.TRENDS_PER_CAPITA, "disabled"),
    Output(ids.TRENDS_CHANNEL, "disabled"),
    Output(ids.TRENDS_INCIDENT_TYPE, "disabled"),
    Output(ids.TRENDS_CATEGORY, "disabled"),
    Output(ids.TRENDS_ANNOTATION, "disabled"),
    Output(ids.TRENDS_METRIC_HELP, "children"),
    Input(ids.TRENDS_METRIC, "value"),
)
def _metric_options(metric):
    options = logic.control_options(metric or "referrals")
    enabled = options.filters_enabled
    return (
        options.split_options,
        options.annotation_options,
        not options.per_capita_allowed,
        not enabled["channel"],
        not enabled["incident_type"],
        not enabled["category"],
        not enabled["annotation"],
        options.description,
    )


@callback(
    Output(logic.TREND_CHART.chart_id + "-graph", "figure"),
    Output(logic.TREND_CHART.chart_id + "-subtitle", "children"),
    Output(logic.TREND_CHART.chart_id + "-note", "children"),
    Output(ids.TRENDS_STATUS, "children"),
    Input(ids.TRENDS_STATE, "data"),
)
def _draw(query):
    view = logic.draw(_reader(), scope_state(ViewState.from_query(query or "")))
    return view.figure, view.subtitle, view.note, view.status


@callback(
    Output(ids.filter_control(PAGE, "country"), "value"),
    Output(ids.filter_control(PAGE, "platform"), "value"),
    Output(ids.filter_control(PAGE, "period"), "start_date"),
    Output(ids.filter_control(PAGE, "period"), "end_date"),
    Output(ids.TRENDS_SPLIT, "value"),
    Output(ids.TRENDS_GRAIN, "value"),
    Output(ids.TRENDS_CHANNEL, "value"),
    Output(ids.TRENDS_INCIDENT_TYPE, "value"),
    Output(ids.TRENDS_CATEGORY, "value"),
    Output(ids.TRENDS_ANNOTATION, "value"),
    Input(ids.TRENDS_GRAPH, "clickData"),
    State(ids.TRENDS_STATE, "data"),
    prevent_initial_call=True,
)
def _drill_down(click, query):
    target = logic.drill_down(ViewState.from_query(query or ""), click)
    if target is None:
        return (dash.no_update,) * 10
    return logic.control_values(target)
