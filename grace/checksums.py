"""SHA-256 of a file, streamed: delivery checksums, bank imports, model artefacts all use this one."""

from __future__ import annotations

import hashlib
from pathlib import Path

from grace.errors import InputFileError


def file_checksum(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks; `InputFileError` when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise InputFileError(path, f"cannot read ({error.strerror})") from error
    return digest.hexdigest()
