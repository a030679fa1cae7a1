"""The `gne` command: one entry point that mounts each area's sub-commands."""

import typer

from gnelib.authoring.cli import register as register_authoring
from gnelib.metrics.cli import app as metrics_app
from gnelib.project_cli import register as register_project
from gnelib.reporting.cli import register as register_reporting
from gnelib.warehouse.cli import app as warehouse_app

app = typer.Typer(
    help="GNE analysis reports: configure (gne init, gne check), build the demo warehouse, inspect metrics, "
    "run notebook reports, author templates and metrics (gne new, gne preview).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(metrics_app, name="metrics")
register_reporting(app)
register_project(app)
register_authoring(app)

if __name__ == "__main__":
    app()
