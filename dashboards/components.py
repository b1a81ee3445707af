"""Reusable layout pieces: app shell, KPI cards, filters. Pure functions returning components.

Styling lives in `dashboards/assets/grace.css`; components only set class names.
"""

from __future__ import annotations

from dash import dcc, html

from dashboards import ids

APP_TITLE = "GRACE Trends"
CLASSIFICATION = "RESTRICTED — law-enforcement use only"
PLACEHOLDER_VALUE = "–"


def format_count(value: int | float | None) -> str:
    """A count with thousands separators (`12,345`); a dash when unknown."""
    if value is None:
        return PLACEHOLDER_VALUE
    try:
        if value != value:  # NaN
            return PLACEHOLDER_VALUE
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return PLACEHOLDER_VALUE


def classification_banner() -> html.Div:
    """The handling marking shown at the top of every page."""
    return html.Div(
        CLASSIFICATION,
        id=ids.CLASSIFICATION_BANNER,
        className="classification-banner",
        role="note",
        **{"aria-label": "Classification"},
    )


def title_bar() -> html.Header:
    """Product name and tagline."""
    return html.Header(
        [
            html.Div(
                [
                    html.Span(APP_TITLE, className="title-bar__name"),
                    html.Span("Trend analytics over anonymised referral metadata", className="title-bar__tagline"),
                ],
                className="title-bar__brand",
            ),
        ],
        id=ids.TITLE_BAR,
        className="title-bar",
    )


def app_shell(page_container) -> html.Div:
    """Banner, title bar and the page area, shared by every page."""
    return html.Div(
        [classification_banner(), title_bar(), html.Main(page_container, className="page")],
        id=ids.SHELL,
        className="shell",
    )


def kpi_card(card_id: str, label: str, note: str = "") -> html.Section:
    """A KPI card: label, big number (filled by a callback) and a footnote saying what it covers."""
    return html.Section(
        [
            html.H3(label, className="kpi-card__label"),
            html.Div(PLACEHOLDER_VALUE, id=ids.kpi_value(card_id), className="kpi-card__value"),
            html.Div(note, id=ids.kpi_note(card_id), className="kpi-card__note"),
        ],
        id=card_id,
        className="kpi-card",
        **{"aria-label": label},
    )


def multi_filter(filter_id: str, label: str, placeholder: str) -> html.Div:
    """A labelled multi-select dropdown; options are filled by a callback."""
    return html.Div(
        [
            html.Label(label, htmlFor=filter_id, className="filter__label"),
            dcc.Dropdown(id=filter_id, options=[], value=[], multi=True, placeholder=placeholder,
                         className="filter__control"),
        ],
        className="filter",
    )


def card(children, class_name: str = "") -> html.Section:
    """A white panel around a chart or table."""
    return html.Section(children, className=f"card {class_name}".strip())
