"""Column order of the case-export contract (data_contracts/case_export.yaml).

The simulator writes exactly the contract's columns in the contract's order; reading them
from the contract itself keeps the two from drifting apart.
"""

from __future__ import annotations

from functools import cache

import yaml

from grace.config import CONTRACTS_DIR
from grace.errors import ContractError

CASE_EXPORT = CONTRACTS_DIR / "case_export.yaml"


@cache
def contract_columns(table: str) -> tuple[str, ...]:
    """Column names of `table` (referrals | files) in contract order."""
    document = yaml.safe_load(CASE_EXPORT.read_text(encoding="utf-8"))
    for entry in document.get("schema", []):
        if entry.get("name") == table:
            return tuple(prop["name"] for prop in entry["properties"])
    raise ContractError(f"{CASE_EXPORT}: no table '{table}' in the case-export contract")


def in_contract_order(columns: dict, table: str):
    """A pyarrow table with exactly the contract's columns, in order (error if one is missing)."""
    import pyarrow as pa

    names = contract_columns(table)
    missing = [name for name in names if name not in columns]
    if missing:
        raise ContractError(f"simulator does not produce {table} column(s) {', '.join(missing)}")
    return pa.table({name: columns[name] for name in names})
