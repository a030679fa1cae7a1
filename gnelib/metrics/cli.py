"""`gne metrics` sub-commands: list, show, sql, docs."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Column, Table

from gnelib.console import make_console
from gnelib.errors import GneError
from gnelib.metrics.catalog import Catalog, load_catalog
from gnelib.metrics.docs import render_markdown
from gnelib.metrics.query import compile_query

app = typer.Typer(
    help="Inspect the metric catalog: list metrics, show a definition, print its SQL.", no_args_is_help=True
)
console = make_console()

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog", help="Catalog directory or YAML file (default: $GNE_CATALOG, else the packaged catalog)."
    ),
]
MetricName = Annotated[str, typer.Argument(help="Metric name, e.g. refund_rate.")]
DEFAULT_DOCS = Path("docs/metrics.md")


def _load(catalog: Path | None) -> Catalog:
    try:
        return load_catalog(catalog)
    except GneError as error:
        _fail(error)


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=2)


@app.command("list")
def list_metrics(catalog: CatalogOption = None) -> None:
    """List every metric, grouped by pillar."""
    loaded = _load(catalog)
    table = Table("pillar", Column("metric", no_wrap=True), "title", "kind", "direction", "unit", "matures")
    for pillar, metrics in loaded.by_pillar().items():
        for metric in metrics:
            table.add_row(
                pillar,
                metric.name,
                metric.title,
                metric.kind,
                metric.direction.replace("_", " "),
                metric.unit,
                f"{metric.maturity_days}d",
            )
    console.print(table)


@app.command()
def show(name: MetricName, catalog: CatalogOption = None) -> None:
    """Show one metric's definition."""
    loaded = _load(catalog)
    try:
        metric = loaded.get(name)
    except GneError as error:
        _fail(error)
    typer.echo(f"{metric.name}: {metric.title}\n\n{metric.description.strip()}\n")
    for key, value in metric.model_dump(exclude={"name", "title", "description"}).items():
        if value not in (None, (), [], {}):
            typer.echo(f"  {key}: {value}")
    typer.echo(f"\n  defined in: {loaded.origin[metric.name]}")


@app.command()
def sql(
    name: MetricName,
    by: Annotated[list[str] | None, typer.Option("--by", help="Dimension to split by (repeatable).")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="Filter DIMENSION=VALUE[,VALUE] (repeatable), e.g. market=ID."),
    ] = None,
    weeks: Annotated[
        str | None, typer.Option("--weeks", help="One ISO week (2026-W47) or a range 2026-W40..2026-W47.")
    ] = None,
    period: Annotated[str, typer.Option("--period", help="week or day.")] = "week",
    horizon_days: Annotated[
        int | None, typer.Option("--horizon-days", help="Fixed-horizon variant: count events within N days.")
    ] = None,
    dialect: Annotated[str, typer.Option("--dialect", help="duckdb, spark, postgres or trino.")] = "duckdb",
    catalog: CatalogOption = None,
) -> None:
    """Print the SQL a metric compiles to, with its bound parameters."""
    loaded = _load(catalog)
    try:
        compiled = compile_query(
            name,
            weeks=_weeks(weeks),
            by=by or [],
            where=_where(where or []),
            period=period,
            horizon_days=horizon_days,
            dialect=dialect,
            catalog=loaded,
        )
    except GneError as error:
        _fail(error)
    typer.echo(compiled.sql)
    if compiled.params:
        typer.echo("-- parameters:")
        for key, value in compiled.params.items():
            typer.echo(f"--   {key} = {value!r}")


@app.command()
def docs(
    output: Annotated[Path, typer.Option("--output", help="Where to write the Markdown.")] = DEFAULT_DOCS,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that OUTPUT is up to date (exit 1 if not).")
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Regenerate docs/metrics.md from the catalog."""
    text = render_markdown(_load(catalog))
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            typer.echo(f"{output} is out of date; run `gne metrics docs --output {output}`.", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{output} is up to date.")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


def _weeks(text: str | None) -> str | tuple[str, str] | None:
    if text is None or ".." not in text:
        return text
    first, last = text.split("..", 1)
    return (first.strip(), last.strip())


def _where(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"--where {item!r} must look like DIMENSION=VALUE (e.g. market=ID).")
        key, values = item.split("=", 1)
        filters.setdefault(key.strip(), []).extend(value.strip() for value in values.split(","))
    return filters
