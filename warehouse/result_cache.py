"""Results of the dashboard's named queries, kept in memory and keyed by the warehouse's data version.

The dashboard asks the same questions again and again (the same page for many analysts, a chart and its
export, a filter set back). A result is stored under (data version, query name, bound parameters): the
data version is the stamp of the warehouse file (and its write-ahead log) when the reader's connection
opened, so every ETL batch, analysis run or other write, which changes the file, makes the earlier
results unreachable; they are dropped as soon as a newer version is seen. The parameters carry the
user's scope (every scoped query binds its countries), so a result is only ever reused for the same
question within the same scope.

Each hit returns a copy (callers may add columns), and the cache holds at most `max_bytes` of frames,
least recently used first out. `GRACE_RESULT_CACHE_MB` sets the size; 0 turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd

Version = Hashable
Key = tuple[Hashable, ...]


def frozen(value: Any) -> Hashable:
    """A hashable form of a bound parameter value (lists and tuples become tuples, recursively)."""
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted((frozen(item) for item in value), key=repr))
    if isinstance(value, dict):
        return tuple(sorted((key, frozen(item)) for key, item in value.items()))
    hash(value)  # raises TypeError for anything else unhashable: such a query is simply not cached
    return value


class ResultCache:
    """A thread-safe, size-bounded LRU cache of query results for one warehouse."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, tuple[pd.DataFrame, int]] = OrderedDict()
        self._version: Version | None = None
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(name: str, params: Mapping[str, Any]) -> Key | None:
        """The key of a query and its parameters; None when a value cannot be hashed (not cached)."""
        try:
            return (name, *sorted((key, frozen(value)) for key, value in params.items()))
        except TypeError:
            return None

    def get(self, version: Version, key: Key | None) -> pd.DataFrame | None:
        """A copy of the stored result, or None (a miss)."""
        if not self.enabled or key is None:
            return None
        with self._lock:
            self._see_version(version)
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0].copy()

    def put(self, version: Version, key: Key | None, frame: pd.DataFrame) -> None:
        """Store a copy of `frame` (too large a frame, over a quarter of the cache, is not stored)."""
        if not self.enabled or key is None:
            return
        size = int(frame.memory_usage(index=True, deep=True).sum())
        if size > self.max_bytes // 4:
            return
        with self._lock:
            self._see_version(version)
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._entries[key] = (frame.copy(), size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _see_version(self, version: Version) -> None:
        """Drop everything stored under another version. The reader has one connection at a time and
        reopens it only when no session is active, so the sessions of a moment all share one version."""
        if version != self._version:
            self._entries.clear()
            self._bytes = 0
            self._version = version
