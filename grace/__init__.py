"""GRACE Trends: trend analytics over anonymised referral metadata.

This package holds what every other package shares: configuration (where state lives),
user-facing errors and the `grace` command line. The ETL, analytics and dashboards live in
their own top-level packages (`etl/`, `analytics/`, `dashboards/`).
"""

__version__ = "0.1.0"
