"""GRACE Trends: trend analytics over anonymised referral metadata.

This package is the bottom layer, what every other package shares and nothing else: settings (every
environment variable, `settings.py`), where state lives (`config.py`), user-facing errors, progress
reporting, the small-cell rule (`disclosure.py`), the user's scope (`scope.py`) and the shared
vocabulary (`vocabulary.py`). Above it: `warehouse/` (the one door to DuckDB); `etl/` and
`analytics/` side by side; `dashboards/` (Dash); and on top `grace_cli/`, the `grace` command, the
demo build and serving.
"""

__version__ = "0.1.0"
