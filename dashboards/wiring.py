"""Callback plumbing shared by every page: navigation links, filter bars, KPI and chart outputs.

Pages stay thin: their `@callback`s adapt component values to the plain functions in
`dashboards/callbacks/<page>.py`; this module holds the repetitive parts so every page behaves
the same way.

- `register_shell_callbacks(app)`: navbar links keep the current global filters
  (`ViewState.global_part()`) in their hrefs and mark the active page (called by `create_app`).
- `register_filter_bar(page)`: fills a `components.filter_bar(page, …)` with the warehouse's
  countries and platforms and the page header's freshness line.
- `register_state_sync(page, store_id, controls)`: the page's controls -> its `ViewState` (as a
  query string in a `dcc.Store`) and the address bar (`url-sync`), validated; the page's drawing
  callbacks take the store as their one input.
- `state_from_filters(...)`: the global part of a `ViewState` from filter-bar values.
- `kpi_outputs` (for `components.kpi_values`), `chart_outputs` / `chart_values`: matching output lists and
  value tuples for `components.kpi_card` and `components.chart_card`.
- `current_role()`, `scope_state(state)`: the signed-in user's role, and the view bound to what the
  user may see (`grace.scope.Scope`, decided by `dashboards.auth.current_scope`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import dash
import plotly.graph_objects as go
from dash import ALL, Input, Output, State

from dashboards import ids
from dashboards.auth.context import current_scope, current_user
from dashboards.background import background_note
from dashboards.components import freshness_id
from dashboards.readers import reader_of
from dashboards.state import ViewState, ViewStateError
from grace.background import read_status

# --- security --------------------------------------------------------------------------------


def current_role() -> str | None:
    """The logged-in user's role, or None (nobody logged in, or outside a request)."""
    user = current_user()
    return user.role if user is not None else None


def record_view(path: str, query: str) -> None:
    """Audit a `page_view` of one page with the filters the server has just validated and will serve.

    `path` is the page's own constant, never a value from the request, and `query` the server's
    rendering of the validated state: the audit log records what was served, not what a client
    claims (an exact repeat within seconds is one view)."""
    from dashboards.auth.context import audit_event
    from dashboards.auth.guard import REPEAT_SECONDS, page_view_detail

    if current_user() is not None:
        audit_event("page_view", page_view_detail(path, query), merge_within=REPEAT_SECONDS)


def scope_state(state: ViewState) -> ViewState:
    """`state` bound to the signed-in user's scope (`ViewState.within`): the country filter cut to it,
    and `ScopeError` for a selected series outside it. Every page callback and export starts here."""
    return state.within(current_scope())


# --- navigation ------------------------------------------------------------------------------


def nav_targets(paths: Sequence[str], pathname: str | None, search: str | None) -> tuple[list[str], list[bool]]:
    """Hrefs (path + the global filters of the current URL) and active flags for navbar links.

    An invalid query string carries no filters rather than breaking the navigation.
    """
    try:
        query = ViewState.from_query(search or "").global_part().to_query()
    except ViewStateError:
        query = ""
    current = pathname or "/"
    active = [path == current or (path != "/" and current.startswith(path.rstrip("/") + "/")) for path in paths]
    return [f"{path}{query}" for path in paths], active


def register_shell_callbacks(app: dash.Dash) -> None:
    """Navbar hrefs follow the URL's global filters; the collapsed navbar opens on small screens."""

    @app.callback(
        Output({"type": ids.NAV_LINK, "path": ALL}, "href"),
        Output({"type": ids.NAV_LINK, "path": ALL}, "active"),
        Input(ids.URL, "pathname"),
        Input(ids.URL_SYNC, "search"),
        State({"type": ids.NAV_LINK, "path": ALL}, "id"),
    )
    def _nav_links(pathname, search, link_ids):
        return nav_targets([link["path"] for link in link_ids], pathname, search)

    @app.callback(
        Output(ids.BACKGROUND_NOTE, "children"),
        Output(ids.BACKGROUND_NOTE, "hidden"),
        Output(ids.BACKGROUND_POLL, "disabled"),
        Input(ids.BACKGROUND_POLL, "n_intervals"),
        State(ids.BACKGROUND_NOTE, "children"),
    )
    def _background(_ticks, shown):
        note = background_note(read_status(reader_of(app).path), shown_before=bool(shown))
        return note.text, note.text is None, not note.poll

    @app.callback(
        Output(f"{ids.NAVBAR}-collapse", "is_open"),
        Input(f"{ids.NAVBAR}-toggler", "n_clicks"),
        State(f"{ids.NAVBAR}-collapse", "is_open"),
        prevent_initial_call=True,
    )
    def _toggle(_clicks, is_open):
        return not is_open


# --- filter bar ------------------------------------------------------------------------------


class FilterOptions(NamedTuple):
    """Outputs of `filter_options`, in the order `register_filter_bar` declares them."""

    country_options: list[dict]
    platform_options: list[dict]
    freshness: str


def filter_options(reader) -> FilterOptions:
    """Countries (by name) and platforms in the warehouse, and the data-freshness line.

    A user scoped to countries is offered only those. The warehouse being unreadable gives
    empty options and says so in the freshness line instead of raising.
    """
    from dashboards.freshness import freshness_text, release_summary
    from grace.errors import WarehouseError

    try:
        with reader.session() as session:
            countries = session.run("filter_countries")
            platforms = session.run("filter_platforms")
            freshness = session.run("data_freshness")
            releases = release_summary(session)
    except WarehouseError as error:
        return FilterOptions([], [], f"Warehouse unavailable: {error}")
    scoped = scope_state(ViewState()).country
    if scoped:
        countries = countries[countries["country_iso3"].isin(scoped)]
    return FilterOptions(
        country_options=[
            {"label": row.country_name, "value": row.country_iso3} for row in countries.itertuples(index=False)
        ],
        platform_options=[{"label": name, "value": name} for name in platforms["platform_name"]],
        freshness=freshness_text(freshness, releases),
    )


def register_filter_bar(page: str) -> None:
    """Fill the filter bar of `page` (options) and its header's freshness line, once per load."""

    @dash.callback(
        Output(ids.filter_control(page, "country"), "options"),
        Output(ids.filter_control(page, "platform"), "options"),
        Output(freshness_id(page), "children"),
        Input(ids.filter_control(page, "country"), "id"),
    )
    def _fill_filter_bar(_id):

        return filter_options(reader_of(dash.get_app()))


def filter_inputs(page: str, period: bool = True) -> list[Input]:
    """The filter bar's inputs: country value, platform value[, period start_date, end_date]."""
    inputs = [Input(ids.filter_control(page, "country"), "value"), Input(ids.filter_control(page, "platform"), "value")]
    if period:
        inputs += [
            Input(ids.filter_control(page, "period"), "start_date"),
            Input(ids.filter_control(page, "period"), "end_date"),
        ]
    return inputs


def _day(value: str | None) -> str | None:
    """A date picker value (`2024-03-01` or `2024-03-01T00:00:00`) as an ISO date, or None."""
    return str(value)[:10] if value else None


def state_from_filters(base: ViewState, countries=None, platforms=None, start=None, end=None) -> ViewState:
    """`base` with the filter-bar values applied (validated like a query string)."""
    start, end = _day(start), _day(end)
    if start and end and start > end:
        start, end = end, start
    return base.with_changes(country=countries or [], platform=platforms or [], start=start, end=end)


BOOL_KEYS = ("log", "per_capita")
MULTI_STATE_KEYS = ("country", "platform", "channel", "incident_type", "category", "annotation")


def apply_controls(base: ViewState, values: dict[str, Any]) -> ViewState:
    """`base` with control values applied by `ViewState` key, then validated as a query string.

    Switches/checklists give booleans or lists for `log`/`per_capita`; empty strings and None
    mean "default"; multi-valued keys take lists. Raises `ViewStateError` for invalid values.
    """
    changes: dict[str, Any] = {}
    defaults = ViewState()
    for key, value in values.items():
        if key in BOOL_KEYS:
            changes[key] = bool(value) if not isinstance(value, (list, tuple)) else bool(len(value))
        elif key in MULTI_STATE_KEYS:
            changes[key] = [value] if isinstance(value, str) else list(value or [])
        elif value in (None, "", []):
            changes[key] = getattr(defaults, key)
        elif key == "capacity":
            changes[key] = int(value)
        else:
            changes[key] = str(value)
    state = base.with_changes(**changes)
    return ViewState.from_query(state.to_query())  # one validation path for links and controls


def register_state_sync(
    page: str, path: str, store_id: str, controls: dict[str, tuple[str, str]], period: bool = True
) -> None:
    """Controls -> `ViewState` query string in `store_id` and in the address bar (and the new view of
    the page at `path` in the audit log).

    `controls` maps a `ViewState` key to a (component id, property) of the page, e.g.
    `{"metric": ("trends-metric", "value"), "log": ("trends-log", "value")}`; the filter bar's
    country, platform and period are always included. Invalid values leave the state as it was.
    The page initialises the store with `state.to_query()` in its layout, so the first drawing
    happens without waiting for this callback (it does not run on load).
    """
    keys = list(controls)
    inputs = filter_inputs(page, period) + [Input(component, prop) for component, prop in controls.values()]

    @dash.callback(
        Output(store_id, "data"),
        Output(ids.URL_SYNC, "search", allow_duplicate=True),
        *inputs,
        State(store_id, "data"),
        prevent_initial_call=True,
    )
    def _sync_state(*args):
        *values, current = args
        countries, platforms = values[0], values[1]
        start, end = (values[2], values[3]) if period else (None, None)
        own = dict(zip(keys, values[4 if period else 2 :]))
        try:
            base = ViewState.from_query(current or "")
            state = (
                state_from_filters(base, countries, platforms, start, end)
                if period
                else base.with_changes(country=countries or [], platform=platforms or [])
            )
            state = apply_controls(state, own)
        except (ViewStateError, ValueError):
            return dash.no_update, dash.no_update
        query = state.to_query()
        record_view(path, query)
        return query, query


# --- KPI cards and chart cards ---------------------------------------------------------------


def kpi_outputs(card_id: str) -> list[Output]:
    """Outputs of one `components.kpi_card`, in the order of `KpiContent`."""
    return [
        Output(ids.kpi_value(card_id), "children"),
        Output(ids.kpi_change(card_id), "children"),
        Output(ids.kpi_change(card_id), "className"),
        Output(ids.kpi_sparkline(card_id), "figure"),
        Output(ids.kpi_note(card_id), "children"),
    ]


def chart_outputs(chart) -> list[Output]:
    """Outputs of a `components.chart_card`: figure, subtitle, note."""
    return [
        Output(ids.chart_graph(chart.chart_id), "figure"),
        Output(ids.chart_subtitle(chart.chart_id), "children"),
        Output(ids.chart_note(chart.chart_id), "children"),
    ]


def chart_values(data, figure: go.Figure) -> tuple[go.Figure, str, str]:
    """Values for `chart_outputs` from a chart's `ChartData` and figure."""
    return figure, data.subtitle, data.page_note


def register_chart_page(store_id: str, charts, draw_chart, page_texts, scope_id: str, status_id: str) -> None:
    """The drawing callbacks of a page of registered charts: one per chart (`draw_chart(chart, reader,
    state)` → `ChartView`) and one for the scope line and status (`page_texts(state)`), all driven by
    the page's state store and with the user's country scope applied."""

    def state_of(query) -> ViewState:
        return scope_state(ViewState.from_query(query or ""))

    def register_draw(chart) -> None:
        @dash.callback(*chart_outputs(chart), Input(store_id, "data"))
        def _draw(query):
            return tuple(draw_chart(chart, reader_of(dash.get_app()), state_of(query)))

    for chart in charts:
        register_draw(chart)

    @dash.callback(Output(scope_id, "children"), Output(status_id, "children"), Input(store_id, "data"))
    def _texts(query):
        return tuple(page_texts(state_of(query)))
