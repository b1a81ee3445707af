"""Placeholder: replaced by the real `warehouse` sub-command."""


def register(cli) -> None:
    """Attach this module's commands to the `grace` group."""
