"""Shared fixtures: an isolated $GRACE_HOME, a fixed pseudonymisation key and fresh warehouses.
Delivery builders live in `builders.py`."""

from __future__ import annotations

import pytest
from builders import TEST_KEY


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own $GRACE_HOME and a known key; nothing touches ~/.grace."""
    home = tmp_path_factory.mktemp("grace_home")
    monkeypatch.setenv("GRACE_HOME", str(home))
    monkeypatch.setenv("GRACE_HMAC_KEY", TEST_KEY)
    monkeypatch.delenv("GRACE_WAREHOUSE", raising=False)
    monkeypatch.delenv("GRACE_HMAC_KEY_FILE", raising=False)
    monkeypatch.setenv("GRACE_ARGON2_PROFILE", "test-only-cheapest")
    # Dashboard readers close their shared connection at once, so a test may write the file next.
    monkeypatch.setenv("GRACE_READER_IDLE_SECONDS", "0")  # real Argon2id, test-cheap parameters
    # Plotly's schema checks on every trace (serving skips them: dashboards/figures/traces.py).
    monkeypatch.setenv("GRACE_FIGURE_CHECKS", "1")
    return home


@pytest.fixture
def fresh_db(tmp_path):
    """A new, empty warehouse file with its schema, opened read-write."""
    from warehouse import connect, ensure_schema

    con = connect(tmp_path / "warehouse.duckdb")
    ensure_schema(con)
    yield con
    con.close()


@pytest.fixture
def key():
    from grace.config import load_pseudonym_key

    return load_pseudonym_key()


@pytest.fixture(scope="session")
def triage_scored(tmp_path_factory):
    """(root, warehouse path): a small simulated warehouse with a promoted triage model and every referral
    scored (`triage_warehouse.build`), built once per session; copy it before writing."""
    import triage_warehouse

    root = tmp_path_factory.mktemp("triage_scored")
    return root, triage_warehouse.build(root)
