"""The one door to the DuckDB warehouse.

- `connection.py`: `connect()` — opening the file (read-write for the ETL and `grace analyse`, which
  wait for the lock; read-only for readers, which fail at once).
- `schema.py`: the DDL in `sql/ddl/`, `SCHEMA_VERSION`, `ensure_schema()` (writers) and `check_schema()`
  (readers): a warehouse of another schema version is refused either way; `upgrade_schema()` migrates an
  older one in place (`sql/migrations/`).
- `sql_files.py`: the one loader of `sql/` files (`read_sql`) and the named queries (`load_query`).
- `grain.py`: daily data or monthly only (a hub's merged DP releases): which grains and metrics exist.
- `reader.py`: `WarehouseReader`, the shared, idle-closing read-only connection with a query timeout,
  through which the dashboard and reports run named queries.
- `lineage.py`: batch reports and the code version that loaded a batch.
- `reference.py`: the codes shared by the simulator, the ETL and the dimensions (EU-27, incident types,
  category codes, channels, annotations, age bands).

`etl`, `analytics`, `dashboards` and every later subsystem reach the warehouse through this package.
"""

from warehouse.connection import connect
from warehouse.grain import data_grain, is_monthly
from warehouse.reader import QueryTimeout, WarehouseReader
from warehouse.schema import (
    SCHEMA_VERSION,
    UNCLASSIFIED,
    check_schema,
    ensure_schema,
    is_initialised,
    upgrade_schema,
)
from warehouse.sql_files import NamedQuery, QueryError, load_query, query_names, read_sql

__all__ = [
    "SCHEMA_VERSION",
    "UNCLASSIFIED",
    "NamedQuery",
    "QueryError",
    "QueryTimeout",
    "WarehouseReader",
    "check_schema",
    "connect",
    "data_grain",
    "ensure_schema",
    "is_initialised",
    "is_monthly",
    "load_query",
    "query_names",
    "read_sql",
    "upgrade_schema",
]
