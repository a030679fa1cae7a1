"""Errors a user can fix."""


class GneError(Exception):
    """A problem the user can fix; the message says how."""
