"""Errors raised by the analysis layer."""

from gnelib.errors import GneError


class AnalysisError(GneError):
    """A bad input to an analysis function (week, dimension, data shape); the message says how to fix it."""
