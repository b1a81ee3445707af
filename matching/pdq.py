"""PDQ hashes as data: 64-hex-character strings, 32 bytes, or four 64-bit words, and their Hamming distance.

PDQ (Meta's perceptual hash) is 256 bits, written as 64 hexadecimal characters. Two media are
near-duplicates when their hashes differ in at most 31 bits. Inside GRACE a batch of hashes is a
C-contiguous ``uint64`` array of shape ``(n, 4)``: word 0 holds hex characters 0–15 (big-endian, so the
first character is the top nibble of word 0), word 3 characters 48–63. That layout is what the index
(`matching.index`) stores and what its kernels read: one hash is 32 bytes, half a cache line.

Only hashes, never media: nothing here reads or writes an image.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from grace.errors import GraceError

HASH_BITS = 256
HASH_BYTES = 32
HASH_WORDS = 4
HEX_LENGTH = 64
DEFAULT_RADIUS = 31  # Meta's near-duplicate threshold for PDQ

_CHUNK = 1 << 18  # hex strings parsed per vectorised step (bounds the temporary UCS-4 copy to ~64 MB)
_INVALID = np.uint8(255)
_NIBBLE = np.full(128, _INVALID, dtype=np.uint8)
for _value, _char in enumerate("0123456789abcdef"):
    _NIBBLE[ord(_char)] = _value
    _NIBBLE[ord(_char.upper())] = _value
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


class PdqHashError(GraceError, ValueError):
    """A value is not a PDQ hash (wrong length, a non-hexadecimal character, wrong array shape or type).

    `row` is the position of the first bad value in its batch (None when the batch as a whole is wrong).
    """

    def __init__(self, reason: str, row: int | None = None, value: object = None):
        where = "PDQ hash" if row is None else f"PDQ hash at row {row}"
        shown = "" if value is None else f" ({_shorten(value)!r})"
        super().__init__(f"{where}{shown}: {reason}")
        self.row, self.value, self.reason = row, value, reason


def _shorten(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_hex(values: Iterable[str] | str) -> np.ndarray:
    """Hex strings → ``uint64 (n, 4)``. Upper or lower case; nothing else is accepted (no prefix, no spaces).

    Raises `PdqHashError` naming the first bad row and its value: not a string, not 64 characters, or a
    character that is not hexadecimal.
    """
    if isinstance(values, str):
        values = [values]
    values = values if isinstance(values, Sequence) else list(values)
    out = np.empty((len(values), HASH_WORDS), dtype=np.uint64)
    for start in range(0, len(values), _CHUNK):
        out[start : start + _CHUNK] = _parse_chunk(values[start : start + _CHUNK], start)
    return out


def _parse_chunk(values: Sequence[str], first_row: int) -> np.ndarray:
    for row, value in enumerate(values):
        if not isinstance(value, str):
            reason = f"expected a string of {HEX_LENGTH} hex characters, got {type(value).__name__}"
            raise PdqHashError(reason, first_row + row, value)
    text = np.array(values, dtype=str) if len(values) else np.empty(0, dtype=f"U{HEX_LENGTH}")
    lengths = np.char.str_len(text)
    wrong = np.flatnonzero(lengths != HEX_LENGTH)
    if wrong.size:
        row = int(wrong[0])
        raise PdqHashError(
            f"expected {HEX_LENGTH} hex characters, got {int(lengths[row])}", first_row + row, values[row]
        )
    codes = text.astype(f"U{HEX_LENGTH}").view(np.uint32).reshape(len(values), HEX_LENGTH)
    nibbles = _NIBBLE[np.minimum(codes, 127)]
    nibbles[codes > 127] = _INVALID
    bad = nibbles == _INVALID
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        reason = f"character {column + 1} ({values[row][column]!r}) is not hexadecimal"
        raise PdqHashError(reason, first_row + row, values[row])
    packed = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return words_from_bytes(packed)


def words_from_bytes(data: np.ndarray) -> np.ndarray:
    """``uint8 (n, 32)`` (the hash's bytes in hex order) → ``uint64 (n, 4)``."""
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != HASH_BYTES:
        raise PdqHashError(f"expected a uint8 array of shape (n, {HASH_BYTES}), got {data.dtype} {data.shape}")
    return np.ascontiguousarray(data).view(">u8").astype(np.uint64)


def bytes_from_words(words: np.ndarray) -> np.ndarray:
    """``uint64 (n, 4)`` → ``uint8 (n, 32)`` in hex order (what FAISS binary indexes take)."""
    words = check_words(words)
    return words.astype(">u8").view(np.uint8).reshape(len(words), HASH_BYTES)


def to_hex(words: np.ndarray) -> list[str]:
    """``uint64 (n, 4)`` → lower-case hex strings."""
    data = bytes_from_words(words)
    digits = np.empty((len(data), HEX_LENGTH), dtype=np.uint8)
    digits[:, 0::2] = _HEX_DIGITS[data >> 4]
    digits[:, 1::2] = _HEX_DIGITS[data & 15]
    blob = digits.tobytes().decode("ascii")
    return [blob[i : i + HEX_LENGTH] for i in range(0, len(blob), HEX_LENGTH)]


def check_words(words: np.ndarray) -> np.ndarray:
    """A C-contiguous ``uint64 (n, 4)`` array, or `PdqHashError`."""
    words = np.asarray(words)
    if words.dtype != np.uint64 or words.ndim != 2 or words.shape[1] != HASH_WORDS:
        raise PdqHashError(f"expected a uint64 array of shape (n, {HASH_WORDS}), got {words.dtype} {words.shape}")
    return np.ascontiguousarray(words)


def as_words(hashes: object) -> np.ndarray:
    """Any accepted form of a batch of hashes → C-contiguous ``uint64 (n, 4)``.

    Accepted: one hex string, a sequence of hex strings, ``uint8 (n, 32)`` or ``uint64 (n, 4)`` arrays
    (a single ``(32,)`` / ``(4,)`` row is one hash).
    """
    if isinstance(hashes, str):
        return parse_hex([hashes])
    if isinstance(hashes, np.ndarray):
        if hashes.dtype == np.uint64:
            return check_words(hashes.reshape(1, -1) if hashes.ndim == 1 else hashes)
        if hashes.dtype == np.uint8:
            return words_from_bytes(hashes.reshape(1, -1) if hashes.ndim == 1 else hashes)
        if hashes.dtype.kind in "UO":
            return parse_hex(hashes.reshape(-1).tolist())
        raise PdqHashError(f"expected hex strings or a uint8 / uint64 array, got a {hashes.dtype} array")
    if isinstance(hashes, Iterable):
        return parse_hex(list(hashes))
    raise PdqHashError(f"expected hex strings or a uint8 / uint64 array, got {type(hashes).__name__}")


def hamming(a: object, b: object) -> np.ndarray:
    """Hamming distances, vectorised with NumPy broadcasting over the leading axes.

    ``hamming(x[:, None], y[None, :])`` on ``uint64`` arrays gives the full ``(len(x), len(y))`` matrix;
    hex strings and byte arrays are converted first. Returns ``int32``.
    """
    left = a if isinstance(a, np.ndarray) and a.dtype == np.uint64 else as_words(a)
    right = b if isinstance(b, np.ndarray) and b.dtype == np.uint64 else as_words(b)
    if left.shape[-1] != HASH_WORDS or right.shape[-1] != HASH_WORDS:
        raise PdqHashError(f"expected {HASH_WORDS} uint64 words per hash, got shapes {left.shape} and {right.shape}")
    return np.bitwise_count(left ^ right).sum(axis=-1, dtype=np.int32)
