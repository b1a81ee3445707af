"""Placeholder: replaced by the real `demo` sub-command."""


def register(cli) -> None:
    """Attach this module's commands to the `grace` group."""
