"""The component kit: layout pieces every page is built from. Pure functions returning components.

Built on dash-bootstrap-components (Bootstrap 5 served locally from `dashboards/assets/`, never a
CDN); GRACE-specific styling lives in `dashboards/assets/grace.css`. Nothing here does I/O or
registers callbacks (see `dashboards/wiring.py` for the shared callbacks), so layouts stay cheap
and testable. The kit's API is documented for page authors in the module docstrings and the
function docstrings below:

- shell: `classification_banner`, `navbar`, `app_shell`
- page: `page_header`, `filter_bar`, `status_area`, `alert`, `empty_state`, `invalid_view`
- numbers: `kpi_card`, `kpi_row`, `format_count`, `format_change`
- charts: `chart_card` (from a registered `dashboards.charts.Chart`), `GRAPH_CONFIG`
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from dashboards import ids
from dashboards.exports.ui import export_menu
from dashboards.formatting import GRAIN_LABELS, PLACEHOLDER_VALUE
from dashboards.state import ViewState

APP_TITLE = "GRACE Trends"
CLASSIFICATION = "RESTRICTED — law-enforcement use only"
BACKGROUND_POLL_MS = 3000

GRAPH_CONFIG: dcc.Graph.Config = {
    "displaylogo": False,
    "responsive": True,
    # Image downloads go through the export menu, which applies the small-cell rule (k = 10).
    "modeBarButtonsToRemove": ["toImage", "select2d", "lasso2d"],
}
SPARKLINE_CONFIG: dcc.Graph.Config = {"staticPlot": True, "displayModeBar": False, "responsive": True}


def aria(**attributes: str) -> dict[str, Any]:
    """ARIA attributes to unpack into a component: `html.Div(..., **aria(live="polite"))` sets `aria-live`.

    Typed `dict[str, Any]`: mypy checks a `**{"aria-live": ...}` of strings against every typed keyword
    of the component (`n_clicks`, `hidden` …), though Dash passes these names on as extra props.
    """
    return {f"aria-{name}": value for name, value in attributes.items()}


# --- shell -----------------------------------------------------------------------------------


def classification_banner() -> html.Div:
    """The handling marking shown at the top of every page."""
    return html.Div(
        CLASSIFICATION,
        id=ids.CLASSIFICATION_BANNER,
        className="classification-banner",
        role="note",
        **aria(label="Classification"),
    )


def background_note() -> html.Div:
    """Where the shell says what is still being added to the warehouse in the background (hidden when
    nothing is; filled by `wiring.register_shell_callbacks`, refreshed by `ids.BACKGROUND_POLL`)."""
    return html.Div(
        [
            html.P(id=ids.BACKGROUND_NOTE, className="background-note", hidden=True, **aria(live="polite")),
            dcc.Interval(id=ids.BACKGROUND_POLL, interval=BACKGROUND_POLL_MS, disabled=False),
        ]
    )


def page_visible(page: Mapping, role: str | None) -> bool:
    """Whether the navbar lists a registered page for a user of `role`.

    A page registered with `roles=("admin",)` is listed only for those roles (and hidden when
    nobody is logged in); pages without `roles` are listed for everyone. The server still
    enforces access: hiding a link is not access control.
    """
    roles = page.get("roles")
    if not roles:
        return True
    return role is not None and role in tuple(roles)


def navbar(pages: Iterable[Mapping], role: str | None = None, account=None) -> dbc.Navbar:
    """Brand and one link per registered page (in `order`), hiding pages `role` may not see.

    Links carry pattern-matching ids `{"type": ids.NAV_LINK, "path": <page path>}`; the shell's
    callback (`dashboards.wiring`) keeps their hrefs carrying the current global filters and
    marks the active page. `account` (user name, log-out form) is shown on the right.
    """
    visible = sorted((p for p in pages if page_visible(p, role)), key=lambda p: (p.get("order") or 0, p["path"]))
    links = [
        dbc.NavItem(
            dbc.NavLink(
                page["name"],
                href=page["path"],
                id={"type": ids.NAV_LINK, "path": page["path"]},
                className="grace-nav__link",
            )
        )
        for page in visible
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Span(APP_TITLE, className="title-bar__name"),
                        html.Span("Trend analytics over anonymised referral metadata", className="title-bar__tagline"),
                    ],
                    href="/",
                    id=ids.TITLE_BAR,
                    className="title-bar__brand",
                ),
                dbc.NavbarToggler(id=f"{ids.NAVBAR}-toggler", n_clicks=0),
                dbc.Collapse(
                    [
                        dbc.Nav(links, navbar=True, className="me-auto grace-nav"),
                        html.Div(account, className="grace-nav__account"),
                    ],
                    id=f"{ids.NAVBAR}-collapse",
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        id=ids.NAVBAR,
        color="dark",
        dark=True,
        expand="xl",  # collapses behind the toggler below 1200 px (tablets, phones)
        className="grace-navbar",
    )


def app_shell(page_container, pages: Iterable[Mapping] = (), role: str | None = None, account=None) -> html.Div:
    """Banner, navbar, the two URL locations and the page area, shared by every page.

    - `dcc.Location(id="url", refresh="callback-nav")`: navigation. Set its `href` from a
      callback to open another page (e.g. a drill-down) without a full reload.
    - `dcc.Location(id="url-sync", refresh=False)`: pages write `ViewState.to_query()` to its
      `search` when their controls change, so the address bar always holds a shareable link
      without re-rendering the page. Its `search` is the current query string at all times.
    """
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh="callback-nav"),
            dcc.Location(id=ids.URL_SYNC, refresh=False),
            classification_banner(),
            navbar(pages, role, account),
            background_note(),
            html.Main(dbc.Container(page_container, fluid="xxl", id=ids.PAGE_CONTENT), className="page"),
        ],
        id=ids.SHELL,
        className="shell",
    )


# --- page pieces -----------------------------------------------------------------------------


def freshness_id(page: str) -> str:
    """Id of a page header's data-freshness line (filled by `wiring.register_filter_bar`)."""
    return f"{page}-freshness"


def page_header(page: str, title: str, lead: str = "", freshness: bool = True) -> html.Header:
    """Page title, a one-line description and (for pages of warehouse data) the data-freshness line
    (`freshness_id(page)`)."""
    line = html.P("Loading…", id=freshness_id(page), className="page-header__freshness", **aria(live="polite"))
    return html.Header(
        [
            html.Div(
                [
                    html.H1(title, className="page-header__title"),
                    html.P(lead, className="page-header__lead") if lead else None,
                ]
            ),
            line if freshness else None,
        ],
        className="page-header",
    )


def _initial_options(values: Sequence[str]) -> list[dict]:
    """Options holding the selected values, so a dropdown shows them before the real options load."""
    return [{"label": value, "value": value} for value in values]


def filter_bar(page: str, state: ViewState, period: bool = True, extra: Sequence = ()) -> html.Div:
    """Country and platform pickers and the period, initialised from `state` (no I/O).

    Ids: `ids.filter_control(page, "country" | "platform" | "period")`; the period is a
    `dcc.DatePickerRange` (`start_date`, `end_date`). `wiring.register_filter_bar(page)` fills
    the options (countries by name, platforms) and the freshness line. `extra` adds page
    controls (each a `filter_field(...)`) in the same grid.
    """
    fields = [
        filter_field(
            "Country",
            dcc.Dropdown(
                id=ids.filter_control(page, "country"),
                options=_initial_options(state.country),
                value=list(state.country),
                multi=True,
                placeholder="All countries",
                className="filter__control",
            ),
        ),
        filter_field(
            "Platform",
            dcc.Dropdown(
                id=ids.filter_control(page, "platform"),
                options=_initial_options(state.platform),
                value=list(state.platform),
                multi=True,
                placeholder="All platforms",
                className="filter__control",
            ),
        ),
    ]
    if period:
        fields.append(
            filter_field(
                "Period",
                dcc.DatePickerRange(
                    id=ids.filter_control(page, "period"),
                    start_date=state.start,
                    end_date=state.end,
                    display_format="D MMM YYYY",
                    clearable=True,
                    start_date_placeholder_text="First",
                    end_date_placeholder_text="Latest",
                    className="filter__control filter__period",
                ),
            )
        )
    fields.extend(extra)
    return html.Div(fields, className="filters", role="group", **aria(label="Filters"))


def filter_field(label: str, control, help_text: str = "", help_id: str | None = None) -> html.Div:
    """A labelled control for a filter bar (the label points at the control's id).

    `help_id` gives the help line an id so a callback can update it.
    """
    control_id = getattr(control, "id", None)
    help_line = None
    if help_text or help_id:
        help_attributes: dict[str, Any] = {"id": help_id} if help_id else {}
        help_line = html.Small(help_text, className="filter__help", **help_attributes)
    return html.Div(
        [
            html.Label(label, htmlFor=control_id if isinstance(control_id, str) else None, className="filter__label"),
            control,
            help_line,
        ],
        className="filter",
    )


def radio_field(label: str, control_id: str, value: Any, choices: Mapping[Any, str], help_text: str = "") -> html.Div:
    """`filter_field` holding one inline radio group: `choices` maps each value to its label, in order."""
    options = [{"label": text, "value": choice} for choice, text in choices.items()]
    return filter_field(label, dbc.RadioItems(id=control_id, value=value, inline=True, options=options), help_text)


def status_area(status_id: str) -> html.Div:
    """A live region for messages (warehouse unavailable, no analytics run …); empty = hidden."""
    return html.Div(id=status_id, className="status-area", role="status", **aria(live="polite"))


def alert(message, color: str = "warning", title: str | None = None) -> dbc.Alert:
    """A Bootstrap alert: `color` is info, warning, danger or success."""
    children = [html.Strong(f"{title} ", className="alert-title")] if title else []
    children.extend(message if isinstance(message, (list, tuple)) else [message])  # Dash renders flat lists only
    return dbc.Alert(children, color=color, className="grace-alert mb-3")


def empty_state(message: str, hint=None, icon: str = "○") -> html.Div:
    """What a card shows when there is nothing to show, and what to do about it."""
    return html.Div(
        [
            html.Div(icon, className="empty-state__icon", **aria(hidden="true")),
            html.P(message, className="empty-state__message"),
            html.P(hint, className="empty-state__hint") if hint else None,
        ],
        className="empty-state",
    )


def invalid_view(page_path: str, error: Exception) -> html.Div:
    """The page body for a link whose query string is invalid: the reason and a way out."""
    return html.Div(
        [
            alert(
                [f"This link cannot be shown: {error}. ", dcc.Link("Open the page without filters", href=page_path)],
                color="danger",
                title="Invalid link.",
            )
        ],
        className="invalid-view",
    )


# --- KPI cards -------------------------------------------------------------------------------


def kpi_card(card_id: str, label: str, note: str = "", sparkline: bool = True) -> dbc.Card:
    """A KPI card: label, big number, period-over-period change badge, sparkline and footnote.

    Filled by a callback through the ids `ids.kpi_value`, `ids.kpi_change` (children and
    className), `ids.kpi_sparkline` (figure) and `ids.kpi_note`; `wiring.kpi_outputs(card_id)`
    lists those outputs and `wiring.kpi_values(...)` the matching values.
    """
    body = [
        html.H3(label, className="kpi-card__label"),
        html.Div(PLACEHOLDER_VALUE, id=ids.kpi_value(card_id), className="kpi-card__value"),
        html.Div("", id=ids.kpi_change(card_id), className="kpi-change kpi-change--none"),
    ]
    if sparkline:
        body.append(
            dcc.Graph(
                id=ids.kpi_sparkline(card_id),
                config=SPARKLINE_CONFIG,
                className="kpi-card__sparkline",
                style={"height": "48px"},
                responsive=True,
                figure={
                    "data": [],
                    "layout": {
                        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                        "xaxis": {"visible": False},
                        "yaxis": {"visible": False},
                    },
                },
            )
        )
    body.append(html.Div(note, id=ids.kpi_note(card_id), className="kpi-card__note"))
    return dbc.Card(
        html.Div(body, className="card-body", role="group", **aria(label=label)),
        id=card_id,
        className="kpi-card h-100",
    )


def kpi_row(cards: Sequence) -> dbc.Row:
    """KPI cards side by side (four per row on wide screens, two on tablets, one on phones)."""
    return dbc.Row(
        [dbc.Col(card, xs=12, sm=6, xl=12 // max(1, min(len(cards), 4))) for card in cards],
        className="kpi-row g-3 mb-3",
    )


# --- chart cards -----------------------------------------------------------------------------


def chart_card(
    chart, height: int = 420, controls=None, figure=None, config: dcc.Graph.Config | None = None
) -> dbc.Card:
    """A card for one registered chart (`dashboards.charts.Chart`): title, subtitle, graph, note.

    Ids: `ids.chart_graph(chart.chart_id)` (the dcc.Graph), `ids.chart_subtitle(...)`,
    `ids.chart_note(...)` and `ids.chart_export(...)` (the export menu area). `controls` are
    optional widgets shown in the card header (e.g. a split picker); `config` adds to the graph's
    `GRAPH_CONFIG` (e.g. a map's `topojsonURL`). Fill it with
    `wiring.chart_outputs(chart)` / `wiring.chart_values(data, figure)`.
    """
    header = html.Div(
        [
            html.Div(
                [
                    html.H2(chart.title, className="chart-card__title"),
                    html.P("", id=ids.chart_subtitle(chart.chart_id), className="chart-card__subtitle"),
                ],
                className="chart-card__heading",
            ),
            html.Div(
                export_menu(chart.chart_id, chart.page),
                id=ids.chart_export(chart.chart_id),
                className="chart-card__export",
            ),
        ],
        className="chart-card__header",
    )
    graph = dcc.Graph(
        id=ids.chart_graph(chart.chart_id),
        config={**GRAPH_CONFIG, **(config or {})},
        className="graph",
        style={"height": f"{height}px"},
        figure=figure if figure is not None else {},
    )
    body: list[Component] = [header]
    if controls is not None:
        body.append(html.Div(controls, className="chart-card__controls"))
    body.append(dcc.Loading(graph, type="dot", delay_show=300, color="#0072B2"))
    body.append(html.P("", id=ids.chart_note(chart.chart_id), className="chart-card__note"))
    return dbc.Card(dbc.CardBody(body), className="chart-card mb-3", id=f"{chart.chart_id}-card")


def rows_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    caption: str,
    table_id: str,
    class_name: str = "",
) -> dbc.Table:
    """A small server-rendered table (users, audit events, schedules, runs): a caption, one header cell per
    (key, label) column and each row's values as text."""
    return dbc.Table(
        [
            html.Caption(caption) if caption else None,
            html.Thead(html.Tr([html.Th(label, scope="col") for _key, label in columns])),
            html.Tbody([html.Tr([html.Td(str(row[key])) for key, _ in columns]) for row in rows]),
        ],
        id=table_id,
        striped=True,
        hover=True,
        size="sm",
        responsive=True,
        className=class_name,
    )


def section_card(title: str, children, card_id: str | None = None, subtitle: str = "") -> dbc.Card:
    """A titled card for tables and lists (top movers, findings …)."""
    heading: list[Component] = [html.H2(title, className="chart-card__title")]
    if subtitle:
        heading.append(html.P(subtitle, className="chart-card__subtitle"))
    kwargs = {"id": card_id} if card_id else {}
    return dbc.Card(
        dbc.CardBody([html.Div(heading, className="chart-card__heading"), children]),
        className="section-card mb-3 h-100",
        **kwargs,
    )


def card(children, class_name: str = "") -> dbc.Card:
    """A plain white panel."""
    return dbc.Card(dbc.CardBody(children), className=f"card {class_name}".strip())


def grain_picker(control_id: str, value: str, grains) -> html.Div:
    """A labelled row of radio buttons choosing the time grain among `grains`."""
    return filter_field(
        "Grain",
        dbc.RadioItems(
            id=control_id, value=value, inline=True, options=[{"label": GRAIN_LABELS[g], "value": g} for g in grains]
        ),
    )
