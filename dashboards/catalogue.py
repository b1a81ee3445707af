"""The chart catalogue: every chart of every page, complete without a Dash app.

Importing this module registers every chart: the modules that define them (`dashboards/callbacks/`)
are plain Python — named queries, frames and plotly figures, no Dash — so a headless job (an export,
a briefing pack, a scheduled report) sees the same catalogue the pages draw from. Look charts up
here rather than in `dashboards.charts`, whose registry is only as complete as the imports so far.
"""

from __future__ import annotations

import dashboards.callbacks.alerts
import dashboards.callbacks.dissemination
import dashboards.callbacks.forecasts
import dashboards.callbacks.operations
import dashboards.callbacks.overview
import dashboards.callbacks.production
import dashboards.callbacks.trends
from dashboards.charts import Chart, ChartData, UnknownChartError, all_charts, charts_for_page, get_chart

# The modules whose charts make up the catalogue, in the order of the navigation.
CHART_MODULES = (
    dashboards.callbacks.overview,
    dashboards.callbacks.trends,
    dashboards.callbacks.forecasts,
    dashboards.callbacks.alerts,
    dashboards.callbacks.dissemination,
    dashboards.callbacks.production,
    dashboards.callbacks.operations,
)

__all__ = ["CHART_MODULES", "Chart", "ChartData", "UnknownChartError", "all_charts", "charts_for_page", "get_chart"]
