"""Placeholder: replaced by the real `simulate` sub-command."""


def register(cli) -> None:
    """Attach this module's commands to the `grace` group."""
