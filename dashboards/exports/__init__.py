"""Chart exports: PNG, SVG and PDF through kaleido and Chromium, CSV, and briefing packs (ZIP).

- `renderer.py` — one kaleido server per process, lazy and thread-safe.
- `marking.py` — title, subtitle, source, filters, freshness, k and the classification marking,
  drawn inside the image and written at the head of the CSV.
- `build.py` — rebuild a registered chart for a view, apply `grace.disclosure.suppress`, mark,
  serialise; the briefing pack of a page.
- `routes.py` — `install_exports(app)`: `/export/<chart>.<fmt>` and `/export/pack/<page>.zip`.
- `ui.py` — `export_menu(chart_id, page)`, the menu a chart card shows to users who may export.
"""


def install_exports(app) -> None:
    """Register the export routes on a Dash app (see `dashboards.exports.routes`)."""
    from dashboards.exports.routes import install_exports as install

    install(app)


__all__ = ["install_exports"]
