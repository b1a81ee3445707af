"""The one loader of the project's SQL files, and named queries.

Every statement lives in a file under `sql/` (`ddl/`, `etl/`, `analytics/`, `queries/`, `auth/`),
read once per process by `read_sql`. The dashboard and reports read the warehouse only through
*named queries* (`sql/queries/<name>.sql`: CTEs, then `SELECT ... FROM final`), whose `$name`
parameters are bound, never spliced: `NamedQuery.bind` refuses a call whose parameters do not
match the ones the file uses, so a typo fails loudly instead of silently filtering nothing. Query
names come from code, never from user input, and are checked against the files that exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from grace.config import SQL_DIR

QUERIES_DIR = SQL_DIR / "queries"
FRAGMENTS_DIR = SQL_DIR / "fragments"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INCLUDE = re.compile(r"^-- @include ([a-z][a-z0-9_]*)(?: ([a-z][a-z0-9_]*))?$", re.MULTILINE)
_FRAGMENT_ARGUMENT = "{rollup}"  # a fragment written for several rollups names the one included by this
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


@cache
def read_sql(relative: str) -> str:
    """Text of a SQL file under `sql/`, e.g. `read_sql('etl/check_files.sql')` (read once per process), with
    its `-- @include <fragment>` lines expanded (one definition shared by several queries)."""
    path = SQL_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path}: SQL file missing from the installation")
    return _with_fragments(path.read_text(encoding="utf-8"), path)


@cache
def load_query(name: str) -> NamedQuery:
    """The named query `sql/queries/<name>.sql` (parsed once per process)."""
    if not _NAME.match(name):
        raise QueryError(f"{name!r}: not a valid query name")
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"{path}: named query does not exist")
    sql = _with_fragments(path.read_text(encoding="utf-8"), path)
    return NamedQuery(name=name, sql=sql, parameters=parameters_of(sql))


def _with_fragments(sql: str, path: Path) -> str:
    """`sql` with each line `-- @include <fragment>` replaced by `sql/fragments/<fragment>.sql` (e.g. the
    `chosen` CTE that picks the analysis run to show, shared by every analytics query). A fragment written
    for several rollups (`period_rows`) is included as `-- @include <fragment> <rollup>`: its `{rollup}`
    becomes that name, an identifier written in our own SQL file, never input."""

    def fragment(found: re.Match[str]) -> str:
        name, argument = found.group(1), found.group(2)
        source = FRAGMENTS_DIR / f"{name}.sql"
        if not source.is_file():
            raise QueryError(f"{path}: includes {name!r}, but {source} does not exist")
        text = source.read_text(encoding="utf-8").rstrip("\n")
        if (argument is None) == (_FRAGMENT_ARGUMENT in text):
            raise QueryError(
                f"{path}: fragment {name!r} "
                + ("needs a rollup name after it" if argument is None else f"takes no argument ({argument!r})")
            )
        return text.replace(_FRAGMENT_ARGUMENT, argument) if argument else text

    return _INCLUDE.sub(fragment, sql)
