"""Errors of the reporting layer, and what their messages share: the "closest match first" hint, and values
echoed shortened (`echo`)."""

import difflib
from collections.abc import Iterable

from gnelib.errors import GneError


class ReportingError(GneError):
    """A problem with a report run the user can fix; the message says how."""


class ParameterError(ReportingError):
    """A notebook parameter is unknown, of the wrong type, or not a valid value."""


class PlanError(ReportingError):
    """A run plan (parameters/*.yaml) cannot be read or does not make sense."""


class LockBusy(ReportingError):
    """Another `gne run` is writing to the same reports directory."""


class UnsafePath(ReportingError):
    """A symbolic link (or another odd file) where a run would write: it could send the write outside reports/."""


def closest_first(value: object, choices: Iterable[object]) -> list[str]:
    """The choices as strings, most similar to `value` first (ties keep their given order)."""
    text = str(value).lower()
    options = [str(choice) for choice in choices]
    scores = {option: difflib.SequenceMatcher(None, text, option.lower()).ratio() for option in options}
    return sorted(options, key=lambda option: -scores[option])


def choices_hint(value: object, choices: Iterable[object], limit: int = 12) -> str:
    """`"choose one of: A, B, C"`, closest to `value` first, shortened after `limit` choices."""
    ordered = closest_first(value, choices)
    if not ordered:
        return "there are no valid choices"
    shown = ", ".join(ordered[:limit])
    more = f" (and {len(ordered) - limit} more)" if len(ordered) > limit else ""
    return f"choose one of: {shown}{more}"


ECHO_CHARS = 80


def echo(value: object) -> str:
    """`repr(value)` for a message, cut after ECHO_CHARS characters with the full length said: a 10 kB value
    becomes `'aaaa…' … (10,240 characters)` instead of filling the terminal."""
    text = repr(value)
    if len(text) <= ECHO_CHARS:
        return text
    return f"{text[:ECHO_CHARS]}… ({len(str(value)):,} characters)"
