"""Debian's Chromium as the tests launch it through Playwright (its own browser download does not work
offline): the executable and the flags for a headless, sandbox-less, network-quiet run."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
