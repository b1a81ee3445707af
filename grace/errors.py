"""User-facing errors.

Every error a user can cause (bad file, bad option, missing key) is a `GraceError`: the CLI
prints its message on one line and exits with a non-zero code, without a traceback.
Messages name the file, row and field at fault wherever one is known.
"""


class GraceError(Exception):
    """An error caused by input or configuration, reported to the user in one line."""

    exit_code = 2


class ConfigError(GraceError):
    """Configuration is missing or invalid (data directory, key, warehouse path)."""


class ContractError(GraceError):
    """A data contract file is malformed, or data violates a contract as a whole."""


class InputFileError(GraceError):
    """An input file cannot be read or is refused as a whole."""

    def __init__(self, path, reason, row=None, field=None):
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {reason}")
        self.path, self.row, self.field, self.reason = path, row, field, reason


class WarehouseError(GraceError):
    """The warehouse is missing, locked, or does not match its contracts."""
