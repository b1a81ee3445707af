"""Settings read from the environment, each checked and explained in one place.

Every setting has a default that suits one analyst's machine; a wrong value is a `ConfigError`
naming the variable, the value and what is allowed. The README's configuration table lists them.
"""

from __future__ import annotations

import os

from grace.errors import ConfigError


def number_setting(name: str, default: float, minimum: float, maximum: float, whole: bool = False) -> float:
    """`$name` as a number from `minimum` to `maximum` (a whole number with `whole`), else `default`."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"${name}={value!r}: not {kind}") from None
    if not minimum <= number <= maximum:
        raise ConfigError(f"${name}={value!r}: use a value from {minimum:g} to {maximum:g}")
    return number


def query_timeout_seconds() -> float:
    """`GRACE_QUERY_TIMEOUT_SECONDS` (default 30): a dashboard's warehouse session is interrupted after it."""
    return number_setting("GRACE_QUERY_TIMEOUT_SECONDS", 30.0, 0.1, 3600.0)


def max_request_bytes() -> int:
    """`GRACE_MAX_REQUEST_BYTES` (default 1 MiB): larger request bodies are refused with 413."""
    return int(number_setting("GRACE_MAX_REQUEST_BYTES", 1 << 20, 1024, 64 << 20, whole=True))


def exports_per_user() -> int:
    """`GRACE_EXPORTS_PER_USER` (default 2): exports one user may have running at once (more get 429)."""
    return int(number_setting("GRACE_EXPORTS_PER_USER", 2, 1, 32, whole=True))
