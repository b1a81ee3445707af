"""Dashboard pages, one module per page. Dash imports them when the app is created
(`use_pages=True`); each registers itself with `dash.register_page` and wires its callbacks to
the plain functions in `dashboards.callbacks.<page>`. Do not import these modules before
`create_app()` has run: `dash.register_page` needs an app.
"""
