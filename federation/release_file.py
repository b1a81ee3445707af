"""The release file an agency sends to the hub: one JSON document per agency-month, checked at the hub's door.

Format `grace-dp-release/1` (docs/FEDERATION.md#release-files)::

    {"format": "grace-dp-release/1", "agency": "AGY-NLD", "month": "2024-03",
     "epsilon": 1.0, "delta": 0.0, "k": 10, "mechanism": "discrete Laplace (OpenDP), ...",
     "cells": [{"country_iso3": "NLD", "platform_name": "Platform A", "referrals": 1234, "suppressed": false},
               {"country_iso3": "NLD", "platform_name": "Platform B", "referrals": null, "suppressed": true}],
     "checksum": "sha256:<hex>"}

`checksum` is the SHA-256 of the canonical JSON of every other field (keys sorted, no spaces, ASCII): it
shows that the file is the one the agency wrote (a file damaged or edited on the way is refused). It is an
integrity check, not a signature: who sent the file is established by the channel it came through.

`read_release` treats the file as hostile: every field is checked and a bad one is refused with a
`ReleaseFileError` naming the file, the field (`cells[3].referrals`) and what is wrong — unknown country
codes, negative or non-integer counts, a shown count under k, a wrong month, duplicate cells, ε missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from grace.errors import GraceError
from warehouse.reference import EU27_ISO3

FORMAT = "grace-dp-release/1"
MAX_FILE_BYTES = 8 * 1024 * 1024  # a release is a few hundred cells; anything far bigger is not one
MAX_EPSILON = 10.0  # the agency's command refuses more per month; a file claiming more is not one of ours
AGENCY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PLATFORM_MAX = 100
MAX_COUNT = 10**12  # far above any month's referrals, and exact as a BIGINT and a float
CELL_FIELDS = ("country_iso3", "platform_name", "referrals", "suppressed")


class ReleaseFileError(GraceError):
    """A release file the hub refuses: names the file, the field and what is wrong."""

    def __init__(self, path: Path | str, field: str, problem: str):
        super().__init__(f"{path}: {field}: {problem}")
        self.path, self.field, self.problem = str(path), field, problem


@dataclass(frozen=True)
class ReleaseFile:
    """One checked release: `cells` has country_iso3, platform_name, referrals (Int64, <NA> where
    suppressed) and suppressed, sorted by country and platform."""

    path: Path
    agency: str
    month: str  # YYYY-MM
    epsilon: float
    delta: float
    k: int
    mechanism: str
    cells: pd.DataFrame
    checksum: str


def checksum_of(body: dict[str, Any]) -> str:
    """'sha256:<hex>' of the canonical JSON of `body` without its `checksum` field."""
    content = {key: value for key, value in body.items() if key != "checksum"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def release_document(
    agency: str, month: str, epsilon: float, k: int, mechanism: str, cells: pd.DataFrame
) -> dict[str, Any]:
    """The release as a JSON-ready document with its checksum (cells in country, platform order)."""
    ordered = cells.sort_values(["country_iso3", "platform_name"], kind="stable")
    rows = [
        {
            "country_iso3": str(row.country_iso3),
            "platform_name": str(row.platform_name),
            "referrals": None if bool(row.suppressed) else int(row.referrals),
            "suppressed": bool(row.suppressed),
        }
        for row in ordered.itertuples(index=False)
    ]
    body: dict[str, Any] = {
        "format": FORMAT,
        "agency": agency,
        "month": month,
        "epsilon": float(epsilon),
        "delta": 0.0,
        "k": int(k),
        "mechanism": mechanism,
        "cells": rows,
    }
    body["checksum"] = checksum_of(body)
    return body


def read_release(path: Path) -> ReleaseFile:
    """Read and check one release file (`ReleaseFileError` on the first problem found)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ReleaseFileError(path, "file", f"cannot be read ({error.strerror})") from error
    if size > MAX_FILE_BYTES:
        raise ReleaseFileError(path, "file", f"{size:,} bytes is more than a release can hold ({MAX_FILE_BYTES:,})")
    try:
        body = json.loads(path.read_bytes().decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise ReleaseFileError(path, "file", "not UTF-8 text") from error
    except json.JSONDecodeError as error:
        raise ReleaseFileError(path, "file", f"not JSON ({error.msg} at line {error.lineno})") from error
    except ValueError as error:
        raise ReleaseFileError(path, "file", str(error)) from error
    except RecursionError as error:
        raise ReleaseFileError(path, "file", "nested too deeply to be a release") from error
    if not isinstance(body, dict):
        raise ReleaseFileError(path, "file", "not a JSON object")
    if body.get("format") != FORMAT:
        raise ReleaseFileError(path, "format", f"{_shown(body.get('format'))} is not {FORMAT!r}")
    agency = _string(path, body, "agency")
    if not AGENCY.fullmatch(agency):
        raise ReleaseFileError(path, "agency", f"{agency!r}: letters, digits, - and _ only (up to 40)")
    month = _string(path, body, "month")
    if not MONTH.fullmatch(month):
        raise ReleaseFileError(path, "month", f"{month!r} is not a month as YYYY-MM")
    epsilon = _number(path, body, "epsilon")
    if not 0 < epsilon <= MAX_EPSILON:
        raise ReleaseFileError(path, "epsilon", f"{epsilon:g} is outside (0, {MAX_EPSILON:g}]")
    delta = _number(path, body, "delta")
    if delta != 0:
        raise ReleaseFileError(path, "delta", f"{delta:g}: the hub takes pure ε-DP releases only (δ = 0)")
    k = body.get("k")
    if k is None:
        raise ReleaseFileError(path, "k", "missing")
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ReleaseFileError(path, "k", f"{_shown(k)} is not an integer of at least 2")
    mechanism = _string(path, body, "mechanism")
    cells = _cells(path, body.get("cells"), k)
    found = _string(path, body, "checksum")
    if found != checksum_of(body):
        raise ReleaseFileError(path, "checksum", "does not match the content: the file changed after its release")
    return ReleaseFile(path, agency, month, epsilon, delta, k, mechanism, cells, found)


def _cells(path: Path, raw: object, k: int) -> pd.DataFrame:
    """The cells as a frame, every field checked (vectorised; the first bad row is named)."""
    if raw is None:
        raise ReleaseFileError(path, "cells", "missing")
    if not isinstance(raw, list) or not raw:
        raise ReleaseFileError(path, "cells", "not a non-empty list of cells")
    for i, cell in enumerate(raw):
        if not isinstance(cell, dict):
            raise ReleaseFileError(path, f"cells[{i}]", "not an object")
        missing = [name for name in CELL_FIELDS if name not in cell]
        extra = sorted(set(cell) - set(CELL_FIELDS))
        if missing or extra:
            problem = f"missing {', '.join(missing)}" if missing else f"unexpected field {', '.join(extra)}"
            raise ReleaseFileError(path, f"cells[{i}]", problem)
    frame = pd.DataFrame({name: pd.Series([cell[name] for cell in raw], dtype=object) for name in CELL_FIELDS})
    _check(
        path,
        frame,
        "country_iso3",
        ~frame["country_iso3"].isin(EU27_ISO3),
        "unknown country code {v} (EU-27 ISO 3166 alpha-3)",
    )
    names = frame["platform_name"]
    good_name = names.map(
        lambda v: isinstance(v, str) and 0 < len(v.strip()) <= PLATFORM_MAX and v.isprintable() and v == v.strip()
    ).astype(bool)
    _check(
        path,
        frame,
        "platform_name",
        ~good_name,
        f"{{v}} is not a platform name (1 to {PLATFORM_MAX} printable characters)",
    )
    is_flag = frame["suppressed"].map(lambda v: isinstance(v, bool)).astype(bool)
    _check(path, frame, "suppressed", ~is_flag, "{v} is not true or false")
    flags = frame["suppressed"].astype(bool)
    counts = frame["referrals"]
    is_int = counts.map(lambda v: isinstance(v, int) and not isinstance(v, bool)).astype(bool)
    _check(path, frame, "referrals", ~(is_int | counts.isna()), "{v} is not a whole number")
    _check(path, frame, "referrals", flags & counts.notna(), "{v} given for a suppressed cell (must be null)")
    _check(path, frame, "referrals", ~flags & counts.isna(), "null for a cell that is not suppressed")
    too_big = counts.map(lambda v: isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_COUNT).astype(bool)
    _check(path, frame, "referrals", too_big, f"{{v}} is beyond any monthly count (over {MAX_COUNT:,})")
    number = pd.to_numeric(counts.where(is_int), errors="coerce")
    _check(path, frame, "referrals", number < 0, "{v} is negative")
    _check(path, frame, "referrals", ~flags & (number < k), f"{{v}} is shown but under k = {k} (must be suppressed)")
    duplicated = frame.duplicated(["country_iso3", "platform_name"], keep="first")
    _check(path, frame, "platform_name", duplicated, "duplicate cell: this country and platform appear twice")
    out = frame.assign(referrals=number.astype("Int64"), suppressed=flags)
    return out.sort_values(["country_iso3", "platform_name"], kind="stable").reset_index(drop=True)


def _check(path: Path, frame: pd.DataFrame, column: str, bad: pd.Series, problem: str) -> None:
    """Refuse the first row where `bad` holds, naming `cells[i].column` and its value."""
    hits = bad.fillna(False).to_numpy(dtype=bool).nonzero()[0]
    if len(hits):
        i = int(hits[0])
        more = f" (and {len(hits) - 1} more cells)" if len(hits) > 1 else ""
        raise ReleaseFileError(path, f"cells[{i}].{column}", problem.format(v=_shown(frame[column].iloc[i])) + more)


def _string(path: Path, body: dict, field: str) -> str:
    value = body.get(field)
    if value is None:
        raise ReleaseFileError(path, field, "missing")
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ReleaseFileError(path, field, f"{_shown(value)} is not a short text")
    return value


def _number(path: Path, body: dict, field: str) -> float:
    value = body.get(field)
    if value is None:
        raise ReleaseFileError(path, field, "missing")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReleaseFileError(path, field, f"{_shown(value)} is not a number")
    return float(value)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _shown(value: object) -> str:
    """A value for an error message: short, and never a control character."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
