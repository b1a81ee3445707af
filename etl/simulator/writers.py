"""Write deliveries, packages, the hash set, the manifest and the malformed-record list.

CSV files are UTF-8 with a header row, comma-separated, strings quoted per RFC 4180 and
empty cells for missing values; Parquet files hold every column as a string so malformed
values survive. Every file's row count, size and SHA-256 go into the manifest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from etl.simulator.layout import MALFORMED_RECORDS, MANIFEST, OUTPUTS
from etl.simulator.malformed import BAD_UTF8_BYTES, BAD_UTF8_MARKER, RECORD_COLUMNS
from grace.errors import ConfigError

_MARKER = BAD_UTF8_MARKER.encode()


def prepare_out_dir(out: Path) -> None:
    """Create the output directory, or clear a previous run's outputs from it.

    A non-empty directory is only reused when it holds a previous run's manifest.json, so a
    mistyped --out never wipes unrelated files; only the simulator's own outputs are removed.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: output path exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise ConfigError(
                f"{out}: directory is not empty and holds no previous simulation (manifest.json); "
                "choose an empty or new directory"
            )
        for name in OUTPUTS:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def csv_bytes(table: pa.Table, header: bool = True) -> bytes:
    """The table as RFC 4180 CSV (strings quoted, nulls as empty cells)."""
    buffer = io.BytesIO()
    pcsv.write_csv(table, buffer, pcsv.WriteOptions(include_header=header))
    return buffer.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    """The table as a Parquet file (all columns strings)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def break_encoding(data: bytes) -> bytes:
    """Replace the broken-encoding markers by invalid UTF-8 bytes."""
    return data.replace(_MARKER, BAD_UTF8_BYTES) if _MARKER in data else data


def _field_bounds(line: bytes, index: int) -> tuple[int, int]:
    """Byte offsets [start, end) of field `index` in one CSV line (quote-aware)."""
    field, quoted, start = 0, False, 0
    for position, byte in enumerate(line):
        if byte == 0x22:
            quoted = not quoted
        elif byte in (0x2C, 0x0A) and not quoted:
            if field == index:
                return start, position
            field, start = field + 1, position + 1
    return start, len(line)


def truncated_csv(table: pa.Table, rows: int, column: str) -> bytes:
    """CSV of the table cut inside `column` of the row `rows` from the end (later rows are lost)."""
    keep = table.num_rows - rows
    head = csv_bytes(table.slice(0, keep))
    partial = csv_bytes(table.slice(keep, 1), header=False)
    start, end = _field_bounds(partial, table.column_names.index(column))
    return head + partial[: start + max(1, (end - start) // 2) if end > start else start]


def write_bytes(
    out: Path, relative: str, data: bytes, kind: str, period: str | None, rows: int, partial_rows: int = 0
) -> dict:
    """Write one output file and describe it for the manifest."""
    path = out / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {"path": relative, "kind": kind, "period": period, "rows": rows}
    if partial_rows:
        entry["partial_rows"] = partial_rows
    entry.update({"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return entry


def table_bytes(table: pa.Table, fmt: str) -> bytes:
    """Encode a delivery table in the run's format (markers turned into bad bytes for CSV)."""
    return break_encoding(csv_bytes(table)) if fmt == "csv" else parquet_bytes(table)


def write_malformed_records(out: Path, records: list) -> None:
    """malformed_records.csv: kind, delivery_file, row (1-based data row), report_id, field, detail."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RECORD_COLUMNS)
    writer.writerows(records)
    (out / MALFORMED_RECORDS).write_text(buffer.getvalue(), encoding="utf-8")


def write_json(out: Path, relative: str, document: dict, inline: dict[str, str] | None = None) -> None:
    """Pretty-printed JSON with a trailing newline.

    `inline` maps placeholder strings, used as values in `document`, to JSON text written in their
    place as it is: large blocks built vectorised and kept to one line per entry.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False)
    for placeholder, block in (inline or {}).items():
        quoted = json.dumps(placeholder)
        if text.count(quoted) != 1:
            raise ValueError(f"placeholder {placeholder!r} must occur once in the document")
        text = text.replace(quoted, block)
    (out / relative).write_text(text + "\n", encoding="utf-8")
