"""Named queries: the only way the dashboard reads the warehouse.

Each query is one file in `sql/queries/<name>.sql` (CTEs, then `SELECT ... FROM final`). Values
are bound as `$name` parameters; the runner refuses a call whose parameters do not match the
ones the file uses, so a typo fails loudly instead of silently filtering nothing. Query names
come from code, never from user input, and are checked against the files that exist.

The warehouse is opened read-only, one short-lived connection per callback (`session()`), so
no connection outlives a request and the ETL can take the write lock between requests.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import duckdb
import pandas as pd

from etl.warehouse import connect, is_initialised
from grace.config import SQL_DIR
from grace.errors import WarehouseError

QUERIES_DIR = SQL_DIR / "queries"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LINE_COMMENT = re.compile(r"--[^\n]*")
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")


class QueryError(ValueError):
    """A named query is missing, or was called with the wrong parameters (a programming error)."""


@dataclass(frozen=True)
class NamedQuery:
    """The text of one named query and the `$parameters` it binds."""

    name: str
    sql: str
    parameters: frozenset[str]

    def bind(self, values: dict[str, Any]) -> dict[str, Any]:
        """Check that `values` supplies exactly this query's parameters; return them."""
        missing = self.parameters - values.keys()
        extra = values.keys() - self.parameters
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing {', '.join(sorted(missing))}")
            if extra:
                problems.append(f"unexpected {', '.join(sorted(extra))}")
            raise QueryError(f"query '{self.name}': {'; '.join(problems)}")
        return dict(values)


def query_names() -> list[str]:
    """Names of every named query shipped in `sql/queries/`."""
    return sorted(path.stem for path in QUERIES_DIR.glob("*.sql"))


def parameters_of(sql: str) -> frozenset[str]:
    """The `$name` parameters a query text binds (comments and string literals ignored)."""
    code = _STRING_LITERAL.sub("''", _LINE_COMMENT.sub("", sql))
    return frozenset(_PARAMETER.findall(code))


def load_query(name: str) -> NamedQuery:
    """Read `sql/queries/<name>.sql`."""
    if not _NAME.match(name):
        raise QueryError(f"{name!r}: not a valid query name")
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"{path}: named query does not exist")
    sql = path.read_text(encoding="utf-8")
    return NamedQuery(name=name, sql=sql, parameters=parameters_of(sql))


class Session:
    """One read-only connection, used for the queries of a single callback."""

    def __init__(self, con: duckdb.DuckDBPyConnection, queries: dict[str, NamedQuery]):
        self._con = con
        self._queries = queries

    def run(self, name: str, **params: Any) -> pd.DataFrame:
        """Run a named query with its parameters; return the rows as a DataFrame."""
        query = self._queries.get(name) or load_query(name)
        self._queries[name] = query
        return self._con.execute(query.sql, query.bind(params)).df()


class WarehouseReader:
    """Read-only access to one warehouse file through named queries.

    One instance belongs to one Dash app (stored on it by `create_app`); it holds only the path
    and the parsed query texts, never an open connection.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._queries: dict[str, NamedQuery] = {}

    def __repr__(self) -> str:
        return f"WarehouseReader({str(self.path)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open the warehouse read-only for a few queries, then close it."""
        con = connect(self.path, read_only=True)
        try:
            yield Session(con, self._queries)
        finally:
            con.close()

    def run(self, name: str, **params: Any) -> pd.DataFrame:
        """Run one named query in its own session."""
        with self.session() as session:
            return session.run(name, **params)

    def check(self) -> None:
        """Fail with a one-line `WarehouseError` unless the warehouse opens and has its schema."""
        con = connect(self.path, read_only=True)
        try:
            if not is_initialised(con):
                raise WarehouseError(f"{self.path}: not a GRACE warehouse (schema missing)")
        finally:
            con.close()
