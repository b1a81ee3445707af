"""Dissemination (`/dissemination`): platform mix, a map of Europe, platform x country, cross-border spread,
re-shares of near-duplicate material, hash-bank matches by category.

Filters (country, platform, period), the grain and the map's measure (`map_measure`: rate per
100,000 inhabitants, the default, or referrals) live in the URL. Clicking a country on the map
toggles it in the country filter, clicking a matrix cell filters by its platform and country,
clicking a platform in the mix filters by that platform — the filter bar's state sync then
updates the URL and every chart. Logic: `dashboards.callbacks.dissemination`; the callbacks here
only adapt. The map's shapes come from `dashboards/assets/topojson/` (no internet).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.callbacks import dissemination as logic
from dashboards.components import (
    aria,
    chart_card,
    filter_bar,
    grain_picker,
    invalid_view,
    page_header,
    radio_field,
)
from dashboards.readers import reader_of
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import chart_outputs, register_chart_page, register_filter_bar, register_state_sync, scope_state

PAGE = "dissemination"
dash.register_page(__name__, path=logic.PAGE, name="Dissemination", title="Dissemination · GRACE Trends", order=4)
register_filter_bar(PAGE)
register_state_sync(
    PAGE,
    logic.PAGE,
    ids.DISSEMINATION_STATE,
    {"grain": (ids.DISSEMINATION_GRAIN, "value"), "map_measure": (ids.DISSEMINATION_MAP_MEASURE, "value")},
)

MAP_MEASURES = {"rate": "Per 100,000 inhabitants", "count": "Referrals"}  # ViewState.map_measure values
CLICKABLE = {logic.MAP_CHART.chart_id: "map", logic.MATRIX_CHART.chart_id: "matrix", logic.MIX_CHART.chart_id: "mix"}


def map_card(state: ViewState) -> dbc.Card:
    """The map's chart card with its measure (rate per 100,000 inhabitants or referrals) beside it; its graph
    loads the country shapes from this app's assets."""
    measure = radio_field("Colour countries by", ids.DISSEMINATION_MAP_MEASURE, state.map_measure, MAP_MEASURES)
    return chart_card(
        logic.MAP_CHART,
        height=520,
        controls=measure,
        config={"topojsonURL": dash.get_asset_url("topojson/"), "scrollZoom": False},
    )


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        state = ViewState.from_query(kwargs)
        logic.grain_of(state)
    except ViewStateError as error:
        return invalid_view(logic.PAGE, error)
    grain = grain_picker(ids.DISSEMINATION_GRAIN, state.grain, logic.GRAINS)
    return html.Div(
        [
            page_header(
                PAGE,
                "Dissemination",
                "Where referrals come from, how media clusters and near-duplicate material spread across "
                "platforms and borders, and which files match a hash bank. "
                "Click a country, a cell or a platform to filter.",
            ),
            filter_bar(PAGE, state, extra=[grain]),
            dcc.Store(id=ids.DISSEMINATION_STATE, data=state.to_query()),
            html.P(logic.scope_text(state), id=ids.DISSEMINATION_SCOPE, className="scope", **aria(live="polite")),
            html.Div(id=ids.DISSEMINATION_STATUS, className="status-area", role="status"),
            dbc.Row(
                [dbc.Col(map_card(state), lg=6), dbc.Col(chart_card(logic.MIX_CHART, height=520), lg=6)],
                className="g-3",
            ),
            chart_card(logic.MATRIX_CHART, height=460),
            chart_card(logic.SPREAD_CHART, height=400),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.REACH_COUNTRIES_CHART, height=340), lg=6),
                    dbc.Col(chart_card(logic.REACH_DAYS_CHART, height=340), lg=6),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.RESHARES_CHART, height=400), lg=6),
                    dbc.Col(chart_card(logic.BANK_CHART, height=400), lg=6),
                ],
                className="g-3",
            ),
        ],
        id=ids.DISSEMINATION_PAGE,
        className="dissemination",
    )


def _state(query) -> ViewState:
    return scope_state(ViewState.from_query(query or ""))


register_chart_page(
    ids.DISSEMINATION_STATE,
    [chart for chart in logic.CHARTS if chart not in logic.REACH_CHARTS],
    logic.draw_chart,
    logic.page_texts,
    ids.DISSEMINATION_SCOPE,
    ids.DISSEMINATION_STATUS,
)


@callback(
    *[output for chart in logic.REACH_CHARTS for output in chart_outputs(chart)], Input(ids.DISSEMINATION_STATE, "data")
)
def _draw_reach(query):
    views = logic.draw_reach_charts(reader_of(dash.get_app()), _state(query))
    return tuple(value for view in views for value in view)


@callback(
    Output(ids.filter_control(PAGE, "country"), "value"),
    Output(ids.filter_control(PAGE, "platform"), "value"),
    Input(ids.chart_graph(logic.MAP_CHART.chart_id), "clickData"),
    Input(ids.chart_graph(logic.MATRIX_CHART.chart_id), "clickData"),
    Input(ids.chart_graph(logic.MIX_CHART.chart_id), "clickData"),
    State(ids.filter_control(PAGE, "country"), "value"),
    State(ids.filter_control(PAGE, "platform"), "value"),
    prevent_initial_call=True,
)
def _cross_filter(map_click, matrix_click, mix_click, countries, platforms):
    trigger = CLICKABLE.get(str(ctx.triggered_id or "").removesuffix("-graph"))
    new_countries, new_platforms = logic.cross_filter(trigger, map_click, matrix_click, mix_click, countries, platforms)
    return (
        new_countries if new_countries != sorted(set(countries or [])) else dash.no_update,
        new_platforms if new_platforms != sorted(set(platforms or [])) else dash.no_update,
    )
