"""Overview: headline numbers and the monthly referral trend, filterable by country and platform."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import ids
from dashboards.app_factory import reader_of
from dashboards.callbacks import overview as logic
from dashboards.components import card, kpi_card, multi_filter

dash.register_page(__name__, path="/", name="Overview", title="Overview · GRACE Trends", order=0)

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    # No image download until exports apply the small-cell rule (k = 10).
    "modeBarButtonsToRemove": ["toImage", "select2d", "lasso2d"],
}


def layout(**_kwargs) -> html.Div:
    """Page layout; values are filled by the callbacks below (no I/O here)."""
    return html.Div(
        [
            dcc.Location(id=ids.OVERVIEW_LOCATION, refresh=False),
            html.Div(
                [
                    html.H1("Overview", className="page-header__title"),
                    html.P("Loading…", id=ids.OVERVIEW_FRESHNESS, className="page-header__freshness"),
                ],
                className="page-header",
            ),
            html.Div(
                [
                    multi_filter(ids.OVERVIEW_COUNTRY_FILTER, "Country", "All countries"),
                    multi_filter(ids.OVERVIEW_PLATFORM_FILTER, "Platform", "All platforms"),
                ],
                className="filters",
            ),
            html.P(id=ids.OVERVIEW_SCOPE, className="scope", **{"aria-live": "polite"}),
            html.Div(id=ids.OVERVIEW_STATUS, className="status", role="status"),
            html.Div(
                [
                    kpi_card(ids.OVERVIEW_KPI_REFERRALS, "Referrals", "in the selected countries and platforms"),
                    kpi_card(ids.OVERVIEW_KPI_FILES, "Files", "reported with those referrals"),
                    kpi_card(ids.OVERVIEW_KPI_MEDIA_CLUSTERS, "Unique media clusters"),
                    kpi_card(ids.OVERVIEW_KPI_QUARANTINED, "Quarantined records", "all ETL batches, unfiltered"),
                ],
                className="kpi-row",
            ),
            card(
                dcc.Graph(id=ids.OVERVIEW_MONTHLY_GRAPH, config=GRAPH_CONFIG, className="graph", style={"height": "440px"}),
                class_name="card--chart",
            ),
        ],
        id=ids.OVERVIEW_PAGE,
        className="overview",
    )


@callback(
    Output(ids.OVERVIEW_COUNTRY_FILTER, "options"),
    Output(ids.OVERVIEW_PLATFORM_FILTER, "options"),
    Output(ids.OVERVIEW_FRESHNESS, "children"),
    Input(ids.OVERVIEW_LOCATION, "pathname"),
)
def _load_filters(_pathname):
    return logic.load_filters(reader_of(dash.get_app()))


@callback(
    Output(ids.OVERVIEW_MONTHLY_GRAPH, "figure"),
    Output(ids.kpi_value(ids.OVERVIEW_KPI_REFERRALS), "children"),
    Output(ids.kpi_value(ids.OVERVIEW_KPI_FILES), "children"),
    Output(ids.kpi_value(ids.OVERVIEW_KPI_MEDIA_CLUSTERS), "children"),
    Output(ids.kpi_note(ids.OVERVIEW_KPI_MEDIA_CLUSTERS), "children"),
    Output(ids.kpi_value(ids.OVERVIEW_KPI_QUARANTINED), "children"),
    Output(ids.OVERVIEW_SCOPE, "children"),
    Output(ids.OVERVIEW_STATUS, "children"),
    Input(ids.OVERVIEW_COUNTRY_FILTER, "value"),
    Input(ids.OVERVIEW_PLATFORM_FILTER, "value"),
)
def _update_overview(countries, platforms):
    return logic.update_overview(reader_of(dash.get_app()), countries, platforms)
