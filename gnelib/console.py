"""The rich console every `gne` command prints through: wide enough to stay readable in logs and CI output."""

import sys

from rich.console import Console

LOG_WIDTH = 140


def make_console() -> Console:
    """A console at the terminal's width, or `LOG_WIDTH` columns when output goes to a file or pipe."""
    return Console(width=None if sys.stdout.isatty() else LOG_WIDTH)
