"""Where GRACE keeps its state and secrets.

All state lives under one data directory, `$GRACE_HOME` (default `~/.grace`): the warehouse,
the demo inputs, users and logs. The pseudonymisation key is *not* state of the warehouse:
it comes from `$GRACE_HMAC_KEY`, or from the file named by `$GRACE_HMAC_KEY_FILE`, or from
`$GRACE_HOME/secrets/hmac.key` (created with a random key on first use, mode 0600).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from grace import settings
from grace.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def _shipped(name: str) -> Path:
    """A folder of files the code reads (`sql`, `data_contracts`): inside the installed package (a wheel
    ships them as `grace/<name>`), else at the top of the checkout."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else REPO_ROOT / name


SQL_DIR = _shipped("sql")
CONTRACTS_DIR = _shipped("data_contracts")

MIN_KEY_BYTES = 16


def grace_home() -> Path:
    """The data directory: `$GRACE_HOME` or `~/.grace`."""
    return settings.grace_home()


def default_warehouse_path() -> Path:
    """`$GRACE_WAREHOUSE` if set, else `$GRACE_HOME/warehouse.duckdb`."""
    return settings.configured_warehouse() or grace_home() / "warehouse.duckdb"


def demo_dir() -> Path:
    """Where the demo keeps its simulated case-system exports."""
    return grace_home() / "demo"


@dataclass(frozen=True)
class PseudonymKey:
    """The HMAC key for pseudonyms, with where it came from (for messages, never the key)."""

    secret: bytes
    origin: str

    def __repr__(self) -> str:  # never print the secret
        return f"PseudonymKey(origin={self.origin!r})"


def load_pseudonym_key(create: bool = True) -> PseudonymKey:
    """Return the deployment's pseudonymisation key.

    Order: `$GRACE_HMAC_KEY` (text), `$GRACE_HMAC_KEY_FILE`, `$GRACE_HOME/secrets/hmac.key`.
    With `create`, a missing default key file is generated (32 random bytes, hex, mode 0600).
    """
    env_key = settings.hmac_key_text()
    if env_key:
        return _checked(env_key.encode(), "$GRACE_HMAC_KEY")
    key_file = settings.hmac_key_file()
    if key_file:
        path = key_file
        if not path.is_file():
            raise ConfigError(f"{path}: key file named by $GRACE_HMAC_KEY_FILE does not exist")
        return _checked(path.read_bytes().strip(), str(path))
    path = grace_home() / "secrets" / "hmac.key"
    if not path.exists():
        if not create:
            raise ConfigError(f"{path}: no pseudonymisation key; set $GRACE_HMAC_KEY or $GRACE_HMAC_KEY_FILE")
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return _checked(path.read_bytes().strip(), str(path))


def _checked(secret: bytes, origin: str) -> PseudonymKey:
    if len(secret) < MIN_KEY_BYTES:
        raise ConfigError(f"{origin}: pseudonymisation key is shorter than {MIN_KEY_BYTES} bytes")
    return PseudonymKey(secret=secret, origin=origin)
