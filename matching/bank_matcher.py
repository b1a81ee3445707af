"""Matching batches of hashes against the hash banks, in memory: `BankMatcher`.

Built once from the warehouse (`BankMatcher.from_warehouse`): per bank, its enabled entries' MD5 and
SHA1 as lookup frames and a `PdqIndex` over their PDQ hashes searched at the bank's own threshold
(exact Hamming distances). `match` takes a batch of MD5, SHA1 and/or PDQ hashes and returns one row per
(query, bank entry, kind) match, vectorised: a join per hash kind and one index search per bank — no
loop over queries. A query that matches an enabled entry of a negative bank (known false positive) has
its positive matches marked `is_suppressed`.

Used by the ETL (`matching.banks.record_bank_matches`), by retro-matching after a bank changes and by
`grace match`. Hashes only: nothing here reads media.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd

from matching.index import PdqIndex
from matching.pdq import as_words
from warehouse import read_sql

MATCH_COLUMNS = [
    "query_index",
    "bank_name",
    "bank_version",
    "entry_id",
    "match_kind",
    "distance",
    "category",
    "is_suppressed",
    "is_negative",
]
KINDS = ("md5", "sha1", "pdq")
HashBatch: TypeAlias = Sequence[object] | np.ndarray | pd.Series  # one hash (or None) per query


@dataclass(frozen=True)
class _Bank:
    """One bank as the matcher holds it."""

    name: str
    version: str
    negative: bool
    threshold: int
    categories: pd.Series  # entry_id -> category
    index: PdqIndex | None  # over the enabled entries' PDQ hashes (ids = entry ids); None without any


class BankMatcher:
    """Every enabled bank entry, ready to match batches of hashes (see the module docstring)."""

    def __init__(self, entries: pd.DataFrame, *, threads: int | None = None):
        """`entries`: bank_name, is_negative, version, pdq_threshold, entry_id, md5, sha1, pdq, category
        (the enabled entries, as `sql/matching/bank_entries.sql` returns them)."""
        self._exact = {
            kind: entries.loc[entries[kind].notna(), [kind, "bank_name", "entry_id"]].reset_index(drop=True)
            for kind in ("md5", "sha1")
        }
        self._banks: list[_Bank] = []
        for name, rows in entries.groupby("bank_name", sort=True):
            first = rows.iloc[0]
            with_pdq = rows[rows["pdq"].notna()]
            index = None
            if len(with_pdq):
                index = PdqIndex(int(first["pdq_threshold"]), threads=threads)
                index.add(with_pdq["entry_id"].to_numpy(np.int64), with_pdq["pdq"].tolist())
            self._banks.append(
                _Bank(
                    name=str(name),
                    version=str(first["version"]),
                    negative=bool(first["is_negative"]),
                    threshold=int(first["pdq_threshold"]),
                    categories=pd.Series(rows["category"].to_numpy(object), index=rows["entry_id"].to_numpy(np.int64)),
                    index=index,
                )
            )
        self._by_name = {bank.name: bank for bank in self._banks}

    @classmethod
    def from_warehouse(
        cls,
        con: duckdb.DuckDBPyConnection,
        *,
        bank: str | None = None,
        entry_id: int | None = None,
        threads: int | None = None,
    ) -> BankMatcher:
        """The enabled entries of every bank (or of `bank`, or of one entry of it) in the warehouse."""
        entries = con.execute(read_sql("matching/bank_entries.sql"), {"bank": bank, "entry_id": entry_id}).df()
        return cls(entries, threads=threads)

    @property
    def bank_names(self) -> list[str]:
        """The banks with at least one enabled entry, sorted."""
        return [bank.name for bank in self._banks]

    @property
    def has_pdq(self) -> bool:
        """Whether any bank has an enabled PDQ entry."""
        return any(bank.index is not None for bank in self._banks)

    def __len__(self) -> int:
        return sum(len(bank.categories) for bank in self._banks)

    def match(
        self, md5: HashBatch | None = None, sha1: HashBatch | None = None, pdq: HashBatch | None = None
    ) -> pd.DataFrame:
        """Every match of a batch: columns `MATCH_COLUMNS`, sorted by query, bank, kind, distance, entry.

        `md5` and `sha1`: sequences (or arrays) of hex strings, None / NaN / "" where a query has none;
        `pdq`: the same as hex strings, or a ``uint64 (n, 4)`` array (every row a hash). The three, when
        given, must be equally long: row i of each is query i. Hex is matched case-insensitively.
        """
        lengths = {len(v) for v in (md5, sha1, pdq) if v is not None}
        if len(lengths) > 1:
            raise ValueError(f"md5, sha1 and pdq must have one length per query, got {sorted(lengths)}")
        parts = [
            self._match_exact(kind, values) for kind, values in (("md5", md5), ("sha1", sha1)) if values is not None
        ]
        if pdq is not None:
            parts.append(self._match_pdq(pdq))
        found = [p for p in parts if len(p)]
        if not found:
            return _empty()
        frame = pd.concat(found, ignore_index=True)
        bank = frame["bank_name"].map(self._by_name)
        frame["bank_version"] = bank.map(lambda b: b.version)
        frame["is_negative"] = bank.map(lambda b: b.negative).astype(bool)
        frame["category"] = _categories(frame, self._by_name)
        negative_queries = frame.loc[frame["is_negative"], "query_index"].unique()
        frame["is_suppressed"] = ~frame["is_negative"] & frame["query_index"].isin(negative_queries)
        frame = frame.sort_values(["query_index", "bank_name", "match_kind", "distance", "entry_id"], kind="stable")
        return frame[MATCH_COLUMNS].reset_index(drop=True)

    def _match_exact(self, kind: str, values: HashBatch) -> pd.DataFrame:
        queries = pd.Series(np.asarray(values, dtype=object)).astype("string").str.strip().str.lower()
        queries = queries[queries.notna() & (queries != "")]
        lookup = self._exact[kind]
        if not len(queries) or not len(lookup):
            return _empty()
        joined = pd.DataFrame({"query_index": queries.index.to_numpy(np.int64), kind: queries.to_numpy(object)}).merge(
            lookup.astype({kind: object}), on=kind, how="inner"
        )
        return pd.DataFrame(
            {
                "query_index": joined["query_index"].to_numpy(np.int64),
                "bank_name": joined["bank_name"].to_numpy(object),
                "entry_id": joined["entry_id"].to_numpy(np.int64),
                "match_kind": kind,
                "distance": np.zeros(len(joined), dtype=np.int32),
            }
        )

    def _match_pdq(self, pdq: HashBatch) -> pd.DataFrame:
        if isinstance(pdq, np.ndarray) and pdq.dtype == np.uint64:
            words, positions = as_words(pdq), np.arange(len(pdq), dtype=np.int64)
        else:
            text = pd.Series(np.asarray(pdq, dtype=object)).astype("string").str.strip()
            present = text.notna() & (text != "")
            positions = np.flatnonzero(present.to_numpy(bool)).astype(np.int64)
            words = as_words(text[present].astype(str).tolist())
        if not len(words):
            return _empty()
        parts = []
        for bank in self._banks:  # one vectorised search per bank, at its own threshold
            if bank.index is None:
                continue
            found = bank.index.search(words, radius=bank.threshold)
            if len(found.id):
                parts.append(
                    pd.DataFrame(
                        {
                            "query_index": positions[found.query_index],
                            "bank_name": bank.name,
                            "entry_id": found.id.astype(np.int64),
                            "match_kind": "pdq",
                            "distance": found.distance.astype(np.int32),
                        }
                    )
                )
        return pd.concat(parts, ignore_index=True) if parts else _empty()


def _categories(frame: pd.DataFrame, banks: dict[str, _Bank]) -> np.ndarray:
    """Each match's entry category, looked up per bank (vectorised within a bank)."""
    out = np.empty(len(frame), dtype=object)
    for name, rows in frame.groupby("bank_name", sort=False).indices.items():
        out[rows] = banks[str(name)].categories.reindex(frame["entry_id"].to_numpy()[rows]).to_numpy(object)
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "query_index": pd.Series(dtype=np.int64),
            "bank_name": pd.Series(dtype=object),
            "bank_version": pd.Series(dtype=object),
            "entry_id": pd.Series(dtype=np.int64),
            "match_kind": pd.Series(dtype=object),
            "distance": pd.Series(dtype=np.int32),
            "category": pd.Series(dtype=object),
            "is_suppressed": pd.Series(dtype=bool),
            "is_negative": pd.Series(dtype=bool),
        }
    )[MATCH_COLUMNS]
