"""`gne warehouse` sub-commands: build the demo warehouse and show what is in one."""

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gnelib.console import make_console
from gnelib.errors import GneError
from gnelib.warehouse.connection import connect, default_warehouse_path
from gnelib.warehouse.generator import Summary, build_warehouse
from gnelib.warehouse.scales import SCALES, resolve_scale
from gnelib.warehouse.schema import TABLES

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
def info(path: PathOption = None) -> None:
    """Show a warehouse's tables with row counts, its order date range, as-of time and planted incidents."""
    target = path or default_warehouse_path()
    try:
        conn = connect(target)
    except GneError as error:
        _fail(error)
    try:
        meta = conn.meta()
        span = conn.sql("SELECT min(ordered_at) AS first, max(ordered_at) AS last FROM orders").iloc[0]
        console.print(
            f"[bold]{target}[/bold]: scale {meta.get('scale')}, seed {meta.get('seed')}, "
            f"as of {meta.get('as_of')}, weeks {meta.get('first_week')}..{meta.get('last_complete_week')} "
            f"(+ partial), orders {span['first']} .. {span['last']}"
        )
        tables = Table(title="tables")
        tables.add_column("table")
        tables.add_column("rows", justify="right")
        for name in TABLES:
            count = conn.sql(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0]
            tables.add_row(name, f"{count:,}")
        console.print(tables)
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
    finally:
        conn.close()
