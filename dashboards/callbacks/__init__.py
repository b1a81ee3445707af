"""Callback bodies as plain functions, one module per page.

`dashboards/pages/<page>.py` wires these to Dash; tests call them directly with a
`WarehouseReader` on a real (temporary) warehouse. They read inputs, run named queries and
hand the frames to `dashboards.figures` — nothing else.
"""
