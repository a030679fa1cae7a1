"""Errors of the warehouse area."""

from gnelib.errors import GneError


class WarehouseError(GneError):
    """A warehouse problem the user can fix (missing file, bad scale, bad URL); the message says how."""
