"""Production & consumption (`/production`): new vs known material (exactly and perceptually), near-duplicate
variants, self-generated and generative-AI shares, distinct pseudonymous accounts, repeat reporting.

Filters (country, platform, period) and the grain live in the URL. Clicking a point zooms the page
to its period (the period filter), clicking a country's or platform's line in the split accounts
chart filters by it; the filter bar's state sync then updates the URL and every chart. Logic:
`dashboards.callbacks.production`; the callbacks here only adapt.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.callbacks import production as logic
from dashboards.components import aria, chart_card, filter_bar, grain_picker, invalid_view, page_header, status_area
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import register_chart_page, register_filter_bar, register_state_sync, scope_state

PAGE = "production"
dash.register_page(
    __name__, path=logic.PAGE, name="Production & consumption", title="Production & consumption · GRACE Trends", order=5
)
register_filter_bar(PAGE)
register_state_sync(PAGE, logic.PAGE, ids.PRODUCTION_STATE, {"grain": (ids.PRODUCTION_GRAIN, "value")})


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string (no I/O)."""
    try:
        state = ViewState.from_query(kwargs)
        logic.grain_of(state)
    except ViewStateError as error:
        return invalid_view(logic.PAGE, error)
    grain = grain_picker(ids.PRODUCTION_GRAIN, state.grain, logic.GRAINS)
    return html.Div(
        [
            page_header(
                PAGE,
                "Production & consumption",
                "New versus known material (exactly and perceptually), near-duplicate variants, "
                "self-generated and generative-AI shares, the accounts "
                "reported and how often they come back. Click a point to zoom into its period.",
            ),
            filter_bar(PAGE, state, extra=[grain]),
            dcc.Store(id=ids.PRODUCTION_STATE, data=state.to_query()),
            html.P(logic.scope_text(state), id=ids.PRODUCTION_SCOPE, className="scope", **aria(live="polite")),
            status_area(ids.PRODUCTION_STATUS),
            html.H2("Production", className="section-title"),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.MATERIAL_CHART, height=400), lg=6),
                    dbc.Col(chart_card(logic.SHARES_CHART, height=400), lg=6),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.PERCEPTUAL_CHART, height=400), lg=6),
                    dbc.Col(chart_card(logic.VARIANTS_CHART, height=400), lg=6),
                ],
                className="g-3",
            ),
            html.H2("Consumption", className="section-title"),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.ACCOUNTS_CHART, height=400), lg=6),
                    dbc.Col(chart_card(logic.REPEAT_CHART, height=400), lg=6),
                ],
                className="g-3",
            ),
        ],
        id=ids.PRODUCTION_PAGE,
        className="production",
    )


def _state(query) -> ViewState:
    return scope_state(ViewState.from_query(query or ""))


register_chart_page(
    ids.PRODUCTION_STATE, logic.CHARTS, logic.draw_chart, logic.page_texts, ids.PRODUCTION_SCOPE, ids.PRODUCTION_STATUS
)


@callback(
    Output(ids.filter_control(PAGE, "period"), "start_date"),
    Output(ids.filter_control(PAGE, "period"), "end_date"),
    Output(ids.filter_control(PAGE, "country"), "value"),
    Output(ids.filter_control(PAGE, "platform"), "value"),
    *[Input(ids.chart_graph(chart.chart_id), "clickData") for chart in logic.CHARTS],
    State(ids.PRODUCTION_STATE, "data"),
    prevent_initial_call=True,
)
def _click(*args):
    *clicks, query = args
    graphs = [ids.chart_graph(chart.chart_id) for chart in logic.CHARTS]
    clicked = clicks[graphs.index(ctx.triggered_id)] if ctx.triggered_id in graphs else None
    target = logic.click_target(clicked, _state(query))
    if target is None:
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    if target.dimension:
        country = [target.entity] if target.dimension == "country" else dash.no_update
        platform = [target.entity] if target.dimension == "platform" else dash.no_update
        return dash.no_update, dash.no_update, country, platform
    return target.start, target.end, dash.no_update, dash.no_update
