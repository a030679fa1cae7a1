"""Errors raised by the metric catalog and its compiler."""

import difflib
from collections.abc import Iterable

from gnelib.errors import GneError

MAX_LISTED = 30


class MetricError(GneError):
    """A metric request or definition the user can fix."""


class CatalogError(MetricError):
    """A catalog file that does not load: the message names the file, the metric and the field."""


class UnknownChoiceError(MetricError):
    """A name or value that is not among the valid choices (listed in the message, closest first)."""

    def __init__(self, what: str, given: object, choices: Iterable[object], hint: str = ""):
        self.what, self.given = what, given
        self.choices = closest_first(str(given), [str(c) for c in choices])
        listed = ", ".join(self.choices[:MAX_LISTED]) if self.choices else "(none)"
        if len(self.choices) > MAX_LISTED:
            listed += f", … ({len(self.choices) - MAX_LISTED} more)"
        super().__init__(f"unknown {what} {given!r}; valid choices (closest first): {listed}.{hint}")


def closest_first(given: str, choices: list[str]) -> list[str]:
    """Sort choices by similarity to `given`, most similar first (ties keep alphabetical order)."""
    ordered = sorted(set(choices))
    return sorted(ordered, key=lambda c: -difflib.SequenceMatcher(None, given.lower(), c.lower()).ratio())
