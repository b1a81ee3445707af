"""Sources: turn one delivery into staged text tables the pipeline validates.

Every source fills the same three temp tables on a DuckDB connection:
`stg_referrals` and `stg_files` (the case-export contract's columns as VARCHAR, plus
`_source_file` and `_row`, the 1-based data row in that file) and `stg_rejects` (rows that
could not even be parsed: file, row, field, reason). Validation, anonymisation and loading
are the same whatever the source.
"""

from etl.sources.base import BatchSource, create_staging_tables
from etl.sources.discovery import discover_batches

__all__ = ["BatchSource", "create_staging_tables", "discover_batches"]
