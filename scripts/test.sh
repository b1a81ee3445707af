#!/usr/bin/env bash
# The test command: set up (venv, test tools, Chromium), run the code checks (import-linter layers,
# ruff lint and format, mypy) and the test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m slow`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

# PostgreSQL is started by the machine; start it if it is not answering.
if ! .venv/bin/python -c "import psycopg; psycopg.connect('host=127.0.0.1 user=postgres dbname=postgres', connect_timeout=3).close()" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
fi

# Code checks first (seconds): layers and cycles, lint and format, types.
echo "checks: import layers, ruff, mypy"
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

# Two workers (the machines have two cores); whole files per worker, so a module's expensive fixtures
# (simulated warehouses, the browser tests' demo server) are built once.
if [[ $# -eq 0 ]]; then
    set -- -m "not slow" -n 2 --dist loadfile
fi
exec .venv/bin/python -m pytest "$@"
