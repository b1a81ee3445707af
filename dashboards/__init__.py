"""The GRACE Trends dashboard (Dash).

- `app_factory.create_app(warehouse_path)` builds the app; `serve.serve()` makes sure a warehouse
  exists (building the demo one when nothing is configured) and runs it.
- `pages/`: one module per page (layout + callback wiring), registered with `dash.register_page`.
- `callbacks/`: the callback bodies as plain functions of a `queries.WarehouseReader`.
- `queries.py` runs the named SQL queries of `sql/queries/`; `figures.py` turns frames into
  figures; `components.py` holds layout pieces; `ids.py` the component ids.

Nothing here does I/O at import time; the warehouse is only ever opened read-only.
"""
