#!/usr/bin/env bash
# Set up GRACE Trends in ./.venv (idempotent). With --test, also the test tools and Debian's
# Chromium (for browser tests and chart export) when it is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python >= 3.11 required ($python_bin is $("$python_bin" --version 2>&1))" >&2
    exit 2
fi
[[ -x .venv/bin/python ]] || "$python_bin" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# pdqhash (Meta's PDQ, for `grace hash`) is published as source only: it compiles with g++ and the Python headers.
if ! .venv/bin/python -c "import pdqhash" 2>/dev/null; then
    has_headers=$(.venv/bin/python -c 'import os, sysconfig; print(int(os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))))')
    if ! command -v g++ >/dev/null 2>&1 || [[ $has_headers != 1 ]]; then
        if [[ $(id -u) == 0 ]]; then
            echo "installing Debian g++ and Python headers (pdqhash compiles from source)…"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ python3-dev >/dev/null
        else
            echo "error: pdqhash compiles from source: install g++ and python3-dev first" >&2
            exit 2
        fi
    fi
fi
if [[ $want_test == 1 ]]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
    if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
        if [[ $(id -u) == 0 ]]; then
            echo "installing Debian chromium (browser tests) and poppler-utils (report PDF tests)…"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
                poppler-utils >/dev/null
        else
            echo "warning: chromium or pdftoppm missing and not root; browser and report PDF tests will be skipped" >&2
        fi
    fi
else
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
# A fresh clone has no bytecode and no compiled Numba kernels: the first `python app.py` (the demo's ETL,
# its first analysis) would spend 10-30 s compiling them. Do it here, once; later runs load them.
echo "compiling the Python modules and the numeric kernels (once; kept beside their sources)…"
.venv/bin/grace compile
