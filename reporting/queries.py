"""Named queries (`sql/queries/`) on a report's cursor: the parameters bound, never spliced into the SQL."""

from __future__ import annotations

import duckdb
import pandas as pd

from warehouse import load_query


def run_named(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pd.DataFrame:
    """The rows of the named query `name` with exactly its `$parameters` bound."""
    query = load_query(name)
    return con.execute(query.sql, query.bind(dict(params))).df()
