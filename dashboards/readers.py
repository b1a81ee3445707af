"""Which warehouse an app serves: its `WarehouseReader`, kept in the Flask config (nothing global),
so two apps could serve two warehouses."""

from __future__ import annotations

import dash

from warehouse import WarehouseReader

READER_KEY = "GRACE_WAREHOUSE_READER"


def attach_reader(app: dash.Dash, reader: WarehouseReader) -> None:
    """Give `app` its warehouse reader (done once by `create_app`)."""
    app.server.config[READER_KEY] = reader


def reader_of(app: dash.Dash) -> WarehouseReader:
    """The warehouse reader of an app built by `create_app` (used inside callbacks and routes)."""
    return app.server.config[READER_KEY]
