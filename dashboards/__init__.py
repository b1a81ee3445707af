"""The GRACE Trends dashboard (Dash).

- `app_factory.create_app(warehouse_path)` builds the app (`grace_cli.server` finds or builds the
  warehouse and serves it).
- `pages/`: one module per page (layout + callback wiring), registered with `dash.register_page`.
- `callbacks/`: the callback bodies as plain functions of a `warehouse.WarehouseReader`; they register
  the charts, which `catalogue.py` gathers without Dash.
- `figures/` turns frames into figures; `state.py` is a view as a URL; `charts.py` the chart registry
  the exports rebuild from; `components.py` and `wiring.py` hold layout pieces and shared callbacks;
  `formatting.py` numbers and words; `ids.py` the component ids; `auth/` login, roles, scope and audit;
  `exports/` chart exports.

Nothing here does I/O at import time; the warehouse is only ever opened read-only.
"""
