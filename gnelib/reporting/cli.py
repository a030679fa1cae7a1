"""`gne run` and the other reporting commands."""

import typer


def register(app: typer.Typer) -> None:
    """Add the reporting commands (run, index, ...) to the top-level app."""
