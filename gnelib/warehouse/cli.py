"""`gne warehouse` sub-commands."""

import typer

app = typer.Typer(help="warehouse commands", no_args_is_help=True)
