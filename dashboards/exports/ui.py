"""The export menu of a chart card: images for a slide, an A4 page or an A4 landscape page (PNG, SVG,
PDF, see `dashboards/exports/presets.py`), the CSV data and the page's briefing pack (ZIP).

The shell's `chart_card` places `export_menu(chart_id, page)` in the card's export area. Links
point at the Flask export routes and carry the current view's query string: the layout sets
them from the URL the page was opened with, and one callback keeps them current from
`url-sync.search` as filters change. Users who may not export (viewers) get no menu at all — the
routes refuse them as well.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, html

from dashboards import ids
from dashboards.auth.context import user_may_export
from dashboards.exports.build import page_slug

# (heading, [(format, preset, label)]): the menu's sections, the slide first (the default).
MENU = (
    ("Slide 16:9", (("png", "slide", "PNG image"), ("svg", "slide", "SVG (vector)"), ("pdf", "slide", "PDF"))),
    ("A4 portrait", (("png", "a4", "PNG image"), ("pdf", "a4", "PDF"))),
    ("A4 landscape", (("png", "a4-landscape", "PNG image"), ("pdf", "a4-landscape", "PDF"))),
    ("Data", (("csv", None, "CSV data"),)),
)
PACKS = (("slide", "Briefing pack (ZIP), slides: every chart of this page"), ("a4", "Briefing pack (ZIP), A4"))


def export_href(chart_id: str, page: str, fmt: str, search: str | None = "", preset: str | None = None) -> str:
    """The route of one export, with the view's query string (`?…`, or empty) and the preset, if any."""
    search = search or ""
    query = search if search.startswith("?") else (f"?{search}" if search else "")
    if preset:
        query += ("&" if query else "?") + f"preset={preset}"
    if fmt == "zip":
        return f"/export/pack/{page_slug(page)}.zip{query}"
    return f"/export/{chart_id}.{fmt}{query}"


def export_menu(chart_id: str, page: str, search: str = "", force: bool = False):
    """The dropdown for one chart, or None when the current user may not export.

    `force` builds it regardless of the user (for tests and static previews).
    """
    if not (force or user_may_export()):
        return None
    if not search:
        try:
            import flask

            search = flask.request.query_string.decode() if flask.has_request_context() else ""
        except RuntimeError:  # pragma: no cover
            search = ""
    items = []
    for heading, entries in MENU:
        items.append(dbc.DropdownMenuItem(heading, header=True))
        items += [_link(chart_id, page, fmt, preset, label, search) for fmt, preset, label in entries]
    items.append(dbc.DropdownMenuItem(divider=True))
    items += [_link(chart_id, page, "zip", preset, label, search) for preset, label in PACKS]
    items.append(dbc.DropdownMenuItem(html.Small("Counts below k are suppressed in every export."), header=True))
    return dbc.DropdownMenu(
        items,
        label="Export",
        size="sm",
        color="secondary",
        align_end=True,
        id={"type": ids.EXPORT_MENU, "chart": chart_id},
        toggle_class_name="export-menu__toggle",
        class_name="export-menu",
    )


def _link(chart_id: str, page: str, fmt: str, preset: str | None, label: str, search: str):
    return dbc.DropdownMenuItem(
        label,
        href=export_href(chart_id, page, fmt, search, preset),
        external_link=True,
        id={"type": ids.EXPORT_LINK, "chart": chart_id, "format": fmt, "preset": preset or ""},
    )


def link_hrefs(link_ids: list[dict], search: str | None, page_of_chart) -> list[str]:
    """Hrefs of the export links on the page for the current query string (plain, testable)."""
    return [
        export_href(link["chart"], page_of_chart(link["chart"]), link["format"], search, link.get("preset") or None)
        for link in link_ids
    ]


def _chart_page(chart_id: str) -> str:
    from dashboards.charts import get_chart

    return get_chart(chart_id).page


@callback(
    Output({"type": ids.EXPORT_LINK, "chart": ALL, "format": ALL, "preset": ALL}, "href"),
    Input(ids.URL_SYNC, "search"),
    State({"type": ids.EXPORT_LINK, "chart": ALL, "format": ALL, "preset": ALL}, "id"),
)
def _follow_view(search, link_ids):
    """Keep every export link on the page pointing at the current view."""
    return link_hrefs(link_ids or [], search, _chart_page)
