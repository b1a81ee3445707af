"""The GRACE Trends dashboard (Dash).

- `app_factory.create_app(warehouse_path)` builds the app; `serve.serve()` makes sure a warehouse
  exists (building the demo one when nothing is configured) and runs it.
- `pages/`: one module per page (layout + callback wiring), registered with `dash.register_page`.
- `callbacks/`: the callback bodies as plain functions of a `queries.WarehouseReader`.
- `queries.py` runs the named SQL queries of `sql/queries/`; `figures/` turns frames into
  figures; `state.py` is a view as a URL; `charts.py` the chart registry the exports rebuild
  from; `components.py` and `wiring.py` hold layout pieces and shared callbacks; `ids.py` the
  component ids; `auth/` login, roles and audit; `exports/` chart exports.

Nothing here does I/O at import time; the warehouse is only ever opened read-only.
"""
