"""Which warehouse an app serves (its `WarehouseReader`) and which report archive (its `ReportDesk`), kept
in the Flask config (nothing global), so two apps could serve two warehouses."""

from __future__ import annotations

import dash

from dashboards.report_desk import ReportDesk
from warehouse import WarehouseReader

READER_KEY = "GRACE_WAREHOUSE_READER"
DESK_KEY = "GRACE_REPORT_DESK"


def attach_reader(app: dash.Dash, reader: WarehouseReader) -> None:
    """Give `app` its warehouse reader (done once by `create_app`)."""
    app.server.config[READER_KEY] = reader


def reader_of(app: dash.Dash) -> WarehouseReader:
    """The warehouse reader of an app built by `create_app` (used inside callbacks and routes)."""
    return app.server.config[READER_KEY]


def attach_desk(app: dash.Dash, desk: ReportDesk | None) -> None:
    """Give `app` its report desk (done once by `create_app`; None = reports not set up)."""
    app.server.config[DESK_KEY] = desk


def desk_of(app: dash.Dash) -> ReportDesk | None:
    """The report desk of an app built by `create_app` (None when reports are not set up)."""
    return app.server.config.get(DESK_KEY)
