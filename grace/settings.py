"""Every setting read from the environment, each checked and explained in one place.

No other module reads `os.environ`: they call the functions below. Each setting has a default that
suits one analyst's machine; a wrong value is a `ConfigError` naming the variable, the value and
what is allowed. `SETTINGS` lists them all, and a test checks that the README's configuration table
lists exactly these.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from grace.errors import ConfigError


class Setting(NamedTuple):
    name: str
    default: str  # as the README's table shows it
    meaning: str


SETTINGS = (
    Setting("GRACE_HOME", "~/.grace", "the one data directory: warehouse, demo inputs, secrets, auth store"),
    Setting("GRACE_WAREHOUSE", "$GRACE_HOME/warehouse.duckdb", "the warehouse file"),
    Setting("GRACE_HMAC_KEY", "(unset)", "the pseudonymisation key itself"),
    Setting("GRACE_HMAC_KEY_FILE", "$GRACE_HOME/secrets/hmac.key", "a file holding the pseudonymisation key"),
    Setting("GRACE_DEMO_SCALE", "0.015", "volume of the demo"),
    Setting("PORT", "8050", "dashboard port"),
    Setting("GRACE_MIN_CELL", "10", "small-cell threshold k of every export"),
    Setting("GRACE_DEMO_PASSWORD", "random, printed once", "password of the demo user"),
    Setting("GRACE_SECURE_COOKIES", "off", "mark the session cookie Secure"),
    Setting("GRACE_SESSION_HOURS", "8", "longest sign-in"),
    Setting("GRACE_READER_IDLE_SECONDS", "5", "idle seconds before the dashboard releases the warehouse"),
    Setting("GRACE_RESULT_CACHE_MB", "256", "memory for the dashboard's cached query results (0 = off)"),
    Setting("GRACE_LOCK_WAIT_SECONDS", "30", "how long a writer waits for the warehouse file"),
    Setting("GRACE_DUCKDB_MEMORY_LIMIT", "3GB", "DuckDB's memory limit per connection"),
    Setting("GRACE_READER_MEMORY_LIMIT", "1GB", "DuckDB's memory limit of the read-only readers (dashboard, reports)"),
    Setting("GRACE_DUCKDB_THREADS", "every core", "DuckDB's worker threads per connection"),
    Setting("GRACE_TRUSTED_PROXIES", "0", "reverse proxies whose X-Forwarded-For is trusted"),
    Setting("GRACE_QUERY_TIMEOUT_SECONDS", "30", "a dashboard request's warehouse queries are stopped after this"),
    Setting("GRACE_MAX_REQUEST_BYTES", "1048576", "largest request body"),
    Setting("GRACE_EXPORTS_PER_USER", "2", "exports one user may have running at once"),
    Setting("GRACE_ARGON2_PROFILE", "rfc9106-low-memory", "password-hash cost profile (test suites only change it)"),
    Setting("BROWSER_PATH", "first Chromium on PATH", "the browser that renders chart images"),
    Setting("GRACE_SERVER_THREADS", "8", "worker threads of the dashboard's web server"),
    Setting("GRACE_MODEL_THREADS", "1", "OpenMP threads of the triage model's booster"),
    Setting("GRACE_FIGURE_CHECKS", "off", "check each chart trace against Plotly's schema as it is built (tests: on)"),
    Setting("GRACE_PDQ_RADIUS", "31", "PDQ Hamming distance that links near-duplicates"),
    Setting("GRACE_PDQ_MIN_QUALITY", "50", "PDQ quality below which a hash is never matched"),
    Setting("GRACE_DRIFT_PSI", "0.2", "PSI above which (plus its sampling noise) a week of the triage model drifted"),
    Setting("GRACE_SMTP_HOST", "(unset: no e-mail)", "SMTP server that delivers scheduled reports by e-mail"),
    Setting("GRACE_SMTP_PORT", "25", "its port"),
    Setting("GRACE_SMTP_STARTTLS", "off", "upgrade the SMTP connection with STARTTLS"),
    Setting("GRACE_SMTP_USER", "(unset: no login)", "SMTP login name"),
    Setting("GRACE_SMTP_PASSWORD_FILE", "(unset)", "a file holding the SMTP password"),
    Setting("GRACE_SMTP_FROM", "grace-trends@localhost", "sender address of report e-mails"),
)


def text_setting(name: str) -> str | None:
    """`$name` stripped, or None when unset or blank."""
    value = os.environ.get(name)
    return value.strip() if value is not None and value.strip() else None


def number_setting(name: str, default: float, minimum: float, maximum: float, whole: bool = False) -> float:
    """`$name` as a number from `minimum` to `maximum` (a whole number with `whole`), else `default`."""
    value = text_setting(name)
    if value is None:
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"${name}={value!r}: not {kind}") from None
    if not minimum <= number <= maximum:
        raise ConfigError(f"${name}={value!r}: use a value from {minimum:g} to {maximum:g}")
    return number


def flag_setting(name: str) -> bool:
    """`$name` as on/off: 1, true, yes, on are on; unset, 0, false, no, off are off."""
    value = (text_setting(name) or "").lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"${name}={value!r}: use 1 or 0")


# --- where data lives ---------------------------------------------------------------------------


def grace_home() -> Path:
    """`GRACE_HOME`, else `~/.grace`."""
    return Path(text_setting("GRACE_HOME") or Path.home() / ".grace").expanduser()


def configured_warehouse() -> Path | None:
    """`GRACE_WAREHOUSE`, when set."""
    value = text_setting("GRACE_WAREHOUSE")
    return Path(value).expanduser() if value else None


def hmac_key_text() -> str | None:
    return text_setting("GRACE_HMAC_KEY")


def hmac_key_file() -> Path | None:
    value = text_setting("GRACE_HMAC_KEY_FILE")
    return Path(value).expanduser() if value else None


# --- the demo and serving -----------------------------------------------------------------------


def demo_scale() -> float | None:
    """`GRACE_DEMO_SCALE` as a positive number, or None (the demo's default size)."""
    value = text_setting("GRACE_DEMO_SCALE")
    if value is None:
        return None
    try:
        scale = float(value)
    except ValueError:
        raise ConfigError(f"$GRACE_DEMO_SCALE={value!r}: not a number") from None
    if not scale > 0:
        raise ConfigError(f"$GRACE_DEMO_SCALE={value!r}: must be greater than 0")
    return scale


def demo_password() -> str | None:
    return text_setting("GRACE_DEMO_PASSWORD")


def port(default: int) -> int:
    """`PORT` (1-65535), else `default`."""
    return int(number_setting("PORT", default, 1, 65535, whole=True))


def model_threads() -> int:
    """`GRACE_MODEL_THREADS` (default 1): OpenMP threads the triage model's booster may use to train, score
    and explain (`classification/threads.py` says why one is the default)."""
    return int(number_setting("GRACE_MODEL_THREADS", 1, 1, 256, whole=True))


def figure_checks() -> bool:
    """`GRACE_FIGURE_CHECKS` (default off): whether chart traces are checked against Plotly's schema as they
    are built (`dashboards/figures/traces.py`). The test suite turns it on; serving leaves it off."""
    return flag_setting("GRACE_FIGURE_CHECKS")


def server_threads() -> int:
    """`GRACE_SERVER_THREADS` (default 8): requests the dashboard's WSGI server (waitress) handles at once."""
    return int(number_setting("GRACE_SERVER_THREADS", 8, 1, 256, whole=True))


class SmtpSettings(NamedTuple):
    host: str
    port: int
    starttls: bool
    user: str | None
    password: str | None
    sender: str


def smtp_settings() -> SmtpSettings | None:
    """Where report e-mails go (None: `$GRACE_SMTP_HOST` unset, so no e-mail can be sent)."""
    host = text_setting("GRACE_SMTP_HOST")
    if host is None:
        return None
    password_file = text_setting("GRACE_SMTP_PASSWORD_FILE")
    password = None
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigError(f"$GRACE_SMTP_PASSWORD_FILE={password_file}: cannot read ({error.strerror})") from None
    return SmtpSettings(
        host=host,
        port=int(number_setting("GRACE_SMTP_PORT", 25, 1, 65535, whole=True)),
        starttls=flag_setting("GRACE_SMTP_STARTTLS"),
        user=text_setting("GRACE_SMTP_USER"),
        password=password,
        sender=text_setting("GRACE_SMTP_FROM") or "grace-trends@localhost",
    )


def browser_path() -> str | None:
    return text_setting("BROWSER_PATH")


# --- disclosure ---------------------------------------------------------------------------------


def min_cell_text() -> str | None:
    """`GRACE_MIN_CELL` as given (checked by `grace.disclosure.min_cell`, which names its rules)."""
    return text_setting("GRACE_MIN_CELL")


# --- the warehouse ------------------------------------------------------------------------------


def reader_idle_seconds() -> float:
    """`GRACE_READER_IDLE_SECONDS` (default 5): the dashboard's reader closes after this idle time."""
    return number_setting("GRACE_READER_IDLE_SECONDS", 5.0, 0.0, 86_400.0)


def result_cache_bytes() -> int:
    """`GRACE_RESULT_CACHE_MB` (default 256, 0 = off): memory for the dashboard's cached query results, per
    served warehouse (`warehouse/result_cache.py`)."""
    return int(number_setting("GRACE_RESULT_CACHE_MB", 256, 0, 65_536) * 1024 * 1024)


def lock_wait_seconds() -> float:
    """`GRACE_LOCK_WAIT_SECONDS` (default 30): how long a writer waits for another process's lock."""
    return number_setting("GRACE_LOCK_WAIT_SECONDS", 30.0, 0.0, 86_400.0)


def pdq_radius() -> int:
    """`GRACE_PDQ_RADIUS` (default 31, HMA's PDQ threshold): files whose PDQ hashes differ in at most this
    many bits are near-duplicates (perceptual clusters, `etl/perceptual.py`)."""
    return int(number_setting("GRACE_PDQ_RADIUS", 31, 0, 64, whole=True))


def pdq_min_quality() -> int:
    """`GRACE_PDQ_MIN_QUALITY` (default 50): a PDQ with a lower quality score (flat, near-blank pictures,
    whose hashes collide) is kept but never matched. A file delivered without a quality score is matched."""
    return int(number_setting("GRACE_PDQ_MIN_QUALITY", 50, 0, 100, whole=True))


def drift_psi() -> float:
    """`GRACE_DRIFT_PSI` (default 0.2): a week of the active triage model's monitoring is flagged as drifted
    (and `grace analyse` raises a drift alert) when a feature's or the score's PSI exceeds this plus the
    PSI expected by chance (`classification/monitoring.py`)."""
    return number_setting("GRACE_DRIFT_PSI", 0.2, 0.0, 10.0)


def duckdb_memory_limit() -> str:
    """`GRACE_DUCKDB_MEMORY_LIMIT` (default 3GB), passed to DuckDB's `memory_limit` (e.g. 512MB, 8GB)."""
    return _memory_size("GRACE_DUCKDB_MEMORY_LIMIT", "3GB")


def reader_memory_limit() -> str:
    """`GRACE_READER_MEMORY_LIMIT` (default 1GB): DuckDB's `memory_limit` on the read-only connections of a
    `WarehouseReader` (the dashboard, reports, exports). They read rollups and marts, so they need far less
    than the ETL: at 25 M referrals the dashboard process peaked at 1.40 GB under 1 GB against 2.34 GB under
    3 GB, its callbacks no slower (docs/BENCHMARKS.md, Scale); the 3 GB target at 100 M rests on it."""
    return _memory_size("GRACE_READER_MEMORY_LIMIT", "1GB")


def _memory_size(name: str, default: str) -> str:
    value = text_setting(name) or default
    digits = value.rstrip("BKMGTbkmgti ")
    if not digits.replace(".", "", 1).isdigit():
        raise ConfigError(f"${name}={value!r}: use a size such as 512MB or 4GB")
    return value


def duckdb_threads() -> int | None:
    """`GRACE_DUCKDB_THREADS` (default unset: DuckDB uses every core), DuckDB's `threads` per connection: for a
    warehouse host shared with other work. `benchmarks/etl_settings.py` measures the ETL under threads and the
    memory limit (at 300 k referrals neither changed its time or peak memory beyond noise: docs/BENCHMARKS.md)."""
    value = int(number_setting("GRACE_DUCKDB_THREADS", 0, 1, 256, whole=True))
    return value or None


def query_timeout_seconds() -> float:
    """`GRACE_QUERY_TIMEOUT_SECONDS` (default 30): a dashboard's warehouse session is interrupted after it."""
    return number_setting("GRACE_QUERY_TIMEOUT_SECONDS", 30.0, 0.1, 3600.0)


# --- the dashboard's security -------------------------------------------------------------------


def secure_cookies() -> bool:
    """`GRACE_SECURE_COOKIES=1` when served over HTTPS (behind a TLS proxy)."""
    return flag_setting("GRACE_SECURE_COOKIES")


def session_hours() -> float:
    """`GRACE_SESSION_HOURS` (default 8, at most 168)."""
    value = number_setting("GRACE_SESSION_HOURS", 8.0, 0.0, 168.0)
    if value <= 0:
        raise ConfigError(f"$GRACE_SESSION_HOURS={value!r}: use more than 0 and at most 168 hours")
    return value


def trusted_proxies() -> int:
    """`GRACE_TRUSTED_PROXIES`: how many reverse proxies in front of the app set X-Forwarded-For (0-5)."""
    return int(number_setting("GRACE_TRUSTED_PROXIES", 0, 0, 5, whole=True))


def max_request_bytes() -> int:
    """`GRACE_MAX_REQUEST_BYTES` (default 1 MiB): larger request bodies are refused with 413."""
    return int(number_setting("GRACE_MAX_REQUEST_BYTES", 1 << 20, 1024, 64 << 20, whole=True))


def exports_per_user() -> int:
    """`GRACE_EXPORTS_PER_USER` (default 2): exports one user may have running at once (more get 429)."""
    return int(number_setting("GRACE_EXPORTS_PER_USER", 2, 1, 32, whole=True))


def argon2_profile(default: str) -> str:
    """`GRACE_ARGON2_PROFILE` (checked against the known profiles by `dashboards.auth.users`)."""
    return text_setting("GRACE_ARGON2_PROFILE") or default
