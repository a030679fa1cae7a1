"""`gne warehouse` sub-commands: build the demo warehouse, show what is in one, export it for other engines."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gnelib.config import mask_url
from gnelib.console import make_console
from gnelib.errors import GneError
from gnelib.warehouse.connection import connect, default_warehouse_path
from gnelib.warehouse.generator import Summary, build_warehouse
from gnelib.warehouse.scales import SCALES, resolve_scale

app = typer.Typer(
    help="Build and inspect the demo GNE warehouse (a seeded DuckDB file).", no_args_is_help=True
)
console = make_console()

SCALE_CHOICES = ", ".join(f"{s.name} (~{s.orders:,} orders)" for s in SCALES.values())
PathOption = Annotated[
    Path | None,
    typer.Option(
        help="Warehouse file. Default: $GNE_WAREHOUSE, else data/gne.duckdb in the current directory.",
        show_default=False,
    ),
]


def _fail(error: GneError) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(code=1)


def _summary_table(summary: Summary) -> Table:
    table = Table(title="tables")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.row_counts.items():
        table.add_row(name, f"{count:,}")
    return table


@app.command()
def build(
    scale: Annotated[str, typer.Option(help=f"Size: {SCALE_CHOICES}.")] = "small",
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and scale give identical tables.")
    ] = 7,
    path: PathOption = None,
) -> None:
    """Generate the seeded synthetic warehouse with its planted incidents.

    The file is written under a temporary name and renamed into place only when the build succeeds.
    """
    target = path or default_warehouse_path()
    try:
        resolve_scale(scale)
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("starting", total=None)

            def report(step: str, done: int, total: int) -> None:
                bar.update(task, description=step, completed=done, total=total)

            summary = build_warehouse(target, scale=scale, seed=seed, progress=report)
            bar.update(task, description="done", completed=bar.tasks[0].total)
    except GneError as error:
        _fail(error)
    console.print(
        f"Built [bold]{summary.path}[/bold] in {summary.seconds:.1f} s: scale {summary.scale}, "
        f"seed {summary.seed}, as of {summary.as_of}."
    )
    console.print(_summary_table(summary))


@app.command()
def export(
    parquet: Annotated[Path, typer.Option(help="Directory for one <table>.parquet per table (for spark://…?parquet=DIR).")],
    path: PathOption = None,
) -> None:
    """Write every table of a DuckDB warehouse file as Parquet, for Spark: `spark://local[2]?parquet=DIR`."""
    from gnelib.warehouse.spark import export_parquet

    source = path or default_warehouse_path()
    try:
        written = export_parquet(source, parquet)
    except GneError as error:
        _fail(error)
    console.print(f"Wrote {len(written)} tables to [bold]{parquet}[/bold]; read them with "
                  f"--warehouse 'spark://local[2]?parquet={parquet.resolve()}'.")


@app.command()
def info(
    path: Annotated[
        str | None,
        typer.Option(help="Warehouse file or URL. Default: `source` in gne.yaml (or $GNE_WAREHOUSE).",
                     show_default=False),
    ] = None,
) -> None:
    """Show the warehouse as the project config and catalog see it: as-of time, weeks, grain values, the tables the
    catalog reads with row counts, the config's metadata rows, and the demo's planted incidents if present."""
    from gnelib.check import Schema
    from gnelib.config import load_project
    from gnelib.datafacts import grain_values, week_span
    from gnelib.metrics.catalog import load_catalog
    from gnelib.metrics.compiler import source_tables

    try:
        project = load_project()
        catalog = load_catalog(project.catalog)
        conn = connect(path, project=project)
        meta = conn.meta()
        span = week_span(conn, project, catalog)
        values = grain_values(conn, project, catalog)
    except GneError as error:
        _fail(error)
    try:
        console.print(
            f"[bold]{path or mask_url(project.source)}[/bold] (config {project.origin}): as of {meta['as_of']} "
            f"({project.calendar.time_zone}), complete weeks {span.first_week}..{span.last_complete_week}, "
            f"{len(values)} {project.grain} values: {', '.join(values)}"
        )
        extra = {key: value for key, value in meta.items() if key != "as_of"}
        if extra:
            console.print("metadata: " + ", ".join(f"{key}={value}" for key, value in extra.items()))
        schema = Schema(conn)
        sources = source_tables(catalog, catalog.views)
        tables = Table(title="tables the catalog reads")
        tables.add_column("table")
        tables.add_column("rows", justify="right")
        for name in sources:
            if schema.columns(name) is None:
                tables.add_row(name, "[red]missing[/red]")
                continue
            count = conn.sql(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0]
            tables.add_row(name, f"{count:,}")
        console.print(tables)
        if schema.columns("incidents") is not None and "seed" in meta:  # the demo warehouse's planted incidents
            _print_incidents(conn)
    finally:
        conn.close()


def _print_incidents(conn) -> None:
    incidents = conn.sql(
        "SELECT name, market, start_week || '..' || end_week AS weeks, "
        "dimension || '=' || dimension_value AS segment, replace(metrics, ',', ', ') AS metrics, "
        "expected_size FROM incidents ORDER BY incident_id"
    )
    planted = Table(title="planted incidents")
    for column in incidents.columns:
        planted.add_column(column, overflow="fold", no_wrap=column in ("name", "market"))
    for row in incidents.itertuples(index=False):
        planted.add_row(*(f"{value:g}" if isinstance(value, float) else str(value) for value in row))
    console.print(planted)
