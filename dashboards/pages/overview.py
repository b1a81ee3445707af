"""Overview: KPI cards, the monthly trend, top movers, and the latest findings and alerts.

All state is in the URL (country, platform, start, end); the logic lives in
`dashboards.callbacks.overview`, the callbacks here only adapt component values to it.
Cross-filtering: clicking a country's line in the chart, or a mover, filters the page to it.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboards import ids
from dashboards.auth.context import reviewed_alerts
from dashboards.callbacks import overview as logic
from dashboards.components import (
    aria,
    chart_card,
    empty_state,
    filter_bar,
    invalid_view,
    kpi_card,
    kpi_row,
    page_header,
    section_card,
)
from dashboards.readers import reader_of
from dashboards.state import ViewState, ViewStateError
from dashboards.wiring import chart_outputs, kpi_outputs, register_filter_bar, register_state_sync, scope_state

PAGE = "overview"
dash.register_page(__name__, path="/", name="Overview", title="Overview · GRACE Trends", order=0)
register_filter_bar(PAGE)
register_state_sync(PAGE, "/", ids.OVERVIEW_STATE, {})

KPIS = (
    ids.OVERVIEW_KPI_REFERRALS,
    ids.OVERVIEW_KPI_FILES,
    ids.OVERVIEW_KPI_MEDIA_CLUSTERS,
    ids.OVERVIEW_KPI_QUARANTINED,
)


def layout(**kwargs) -> html.Div:
    """Page layout from the URL's query string; values are filled by the callbacks below (no I/O)."""
    try:
        state = ViewState.from_query(kwargs)
    except ViewStateError as error:
        return invalid_view(logic.PAGE_PATH, error)
    return html.Div(
        [
            page_header(PAGE, "Overview", "Headline numbers, the monthly trend and what changed most."),
            filter_bar(PAGE, state),
            dcc.Store(id=ids.OVERVIEW_STATE, data=state.to_query()),
            html.P(id=ids.OVERVIEW_SCOPE, className="scope", **aria(live="polite")),
            html.Div(id=ids.OVERVIEW_STATUS, className="status", role="status"),
            kpi_row(
                [
                    kpi_card(ids.OVERVIEW_KPI_REFERRALS, "Referrals"),
                    kpi_card(ids.OVERVIEW_KPI_FILES, "Files"),
                    kpi_card(ids.OVERVIEW_KPI_MEDIA_CLUSTERS, "New media clusters"),
                    kpi_card(ids.OVERVIEW_KPI_QUARANTINED, "Quarantined records"),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(chart_card(logic.MONTHLY_CHART, height=420), lg=8),
                    dbc.Col(
                        section_card(
                            "Top movers",
                            html.Div(empty_state("Loading…"), id=ids.OVERVIEW_MOVERS),
                            subtitle="",
                            card_id=f"{ids.OVERVIEW_MOVERS}-card",
                        ),
                        lg=4,
                        className="mb-3",
                    ),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        section_card(
                            "Findings",
                            html.Div(empty_state("Loading…"), id=ids.OVERVIEW_FINDINGS),
                            card_id=f"{ids.OVERVIEW_FINDINGS}-card",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                    dbc.Col(
                        section_card(
                            "Needs attention",
                            html.Div(empty_state("Loading…"), id=ids.OVERVIEW_ALERTS),
                            card_id=f"{ids.OVERVIEW_ALERTS}-card",
                        ),
                        lg=6,
                        className="mb-3",
                    ),
                ],
                className="g-3",
            ),
            html.P(id=ids.OVERVIEW_RUN, className="scope"),
        ],
        id=ids.OVERVIEW_PAGE,
        className="overview",
    )


def _state(query: str | None) -> ViewState:
    return scope_state(ViewState.from_query(query or ""))


def _reader():
    return reader_of(dash.get_app())


@callback(
    *[output for card_id in KPIS for output in kpi_outputs(card_id)],
    Output(ids.OVERVIEW_SCOPE, "children"),
    Output(ids.OVERVIEW_STATUS, "children"),
    Input(ids.OVERVIEW_STATE, "data"),
)
def _update_kpis(query):
    result = logic.update_kpis(_reader(), _state(query))
    return (*result.referrals, *result.files, *result.media_clusters, *result.quarantined, result.scope, result.status)


@callback(*chart_outputs(logic.MONTHLY_CHART), Input(ids.OVERVIEW_STATE, "data"))
def _draw_monthly(query):
    return logic.draw_monthly(_reader(), _state(query))


def mover_list(movers: list[logic.Mover], heading: str) -> html.Div:
    """One list of movers; each entity is a button that filters the page to it."""
    if not movers:
        return html.Div()
    return html.Div(
        [
            html.H3(heading, className="kpi-card__label mt-2"),
            html.Ul(
                [
                    html.Li(
                        [
                            html.Button(
                                mover.label,
                                id={"type": ids.OVERVIEW_MOVER, "dimension": mover.dimension, "entity": mover.entity},
                                className="btn btn-link",
                                title=f"Filter to {mover.label}",
                                n_clicks=0,
                            ),
                            html.Span(
                                logic.mover_text(mover),
                                className=f"kpi-change kpi-change--{'up' if mover.change > 0 else 'down'}",
                            ),
                        ]
                    )
                    for mover in movers
                ],
                className="mover-list",
            ),
        ]
    )


@callback(Output(ids.OVERVIEW_MOVERS, "children"), Input(ids.OVERVIEW_STATE, "data"))
def _update_movers(query):
    result = logic.top_movers(_reader(), _state(query))
    if result.message:
        return empty_state(result.message)
    return html.Div(
        [
            html.P(f"Referrals, {result.window}", id=ids.OVERVIEW_MOVERS_WINDOW, className="chart-card__subtitle"),
            mover_list(result.countries, "Countries"),
            mover_list(result.platforms, "Platforms"),
        ]
    )


def insight_list(items: list[logic.Insight]) -> html.Ul:
    """Findings or alerts, each linking to the Trend explorer view that shows it."""
    return html.Ul(
        [
            html.Li([dcc.Link(item.text, href=item.href), html.Div(item.meta, className="finding__meta")])
            for item in items
        ],
        className="finding-list",
    )


@callback(
    Output(ids.OVERVIEW_FINDINGS, "children"),
    Output(ids.OVERVIEW_ALERTS, "children"),
    Output(ids.OVERVIEW_RUN, "children"),
    Input(ids.OVERVIEW_STATE, "data"),
)
def _update_insights(query):
    result = logic.latest_insights(_reader(), _state(query), reviewed=reviewed_alerts())
    if result.message == logic.NO_RUN_HINT:
        hint = html.Span(
            ["Run ", html.Code("grace analyse"), " to compute trends, change points, anomalies and findings."]
        )
        return (empty_state("No analysis results yet.", hint), empty_state("No alerts yet.", hint), "")
    findings = insight_list(result.findings) if result.findings else empty_state(result.message or "No findings.")
    attention = html.P(
        [result.attention, " · ", dcc.Link("Review them on the Alerts page", href=result.alerts_href)],
        id=ids.OVERVIEW_ATTENTION,
        className="chart-card__subtitle",
    )
    listed = insight_list(result.alerts) if result.alerts else empty_state(result.message or "No alerts.")
    return findings, html.Div([attention, listed]), result.run


@callback(
    Output(ids.OVERVIEW_COUNTRY_FILTER, "value"),
    Output(ids.OVERVIEW_PLATFORM_FILTER, "value"),
    Input(ids.OVERVIEW_MONTHLY_GRAPH, "clickData"),
    Input({"type": ids.OVERVIEW_MOVER, "dimension": ALL, "entity": ALL}, "n_clicks"),
    State(ids.OVERVIEW_COUNTRY_FILTER, "value"),
    State(ids.OVERVIEW_PLATFORM_FILTER, "value"),
    prevent_initial_call=True,
)
def _cross_filter(click_data, _mover_clicks, countries, platforms):
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):  # a mover button (ignore buttons appearing with 0 clicks)
        if not ctx.triggered or not ctx.triggered[0].get("value"):
            return dash.no_update, dash.no_update
        if trigger["dimension"] == "country":
            return [trigger["entity"]], dash.no_update
        return dash.no_update, [trigger["entity"]]
    country = logic.filter_from_click(click_data)
    if country is None or list(countries or []) == [country]:
        return dash.no_update, dash.no_update
    return [country], dash.no_update
