"""`gne init` (write a commented gne.yaml for a new warehouse) and `gne check` (config + catalog against the data)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from gnelib.config import CONFIG_NAME, ENGINES, mask_url
from gnelib.errors import GneError

EXIT_OK, EXIT_PROBLEMS = 0, 2

TEMPLATE = """\
# gne-reports project config. Validated when any `gne` command or report reads it; errors name line and field.
# $GNE_WAREHOUSE and $GNE_CATALOG (or `gne run --warehouse / --catalog`) override `source` and `catalog`.
# Check it against the warehouse with `gne check`.

# Where the data is: duckdb:///relative/or/absolute.duckdb (relative to this file), spark://local[2]?parquet=DIR,
# spark://master:7077?parquet=s3a://bucket/dir, sc://host:15002 (Spark Connect).
source: {source}

# The metric catalog: a directory of YAML files (relative to this file); `packaged` = gnelib's GNE catalog.
# Write one file per group of metrics; see README.md ("Your own warehouse") and gnelib/metrics/catalog/.
catalog: {catalog}

# The dimension every report is about (one report per value, e.g. market, region, customer_state). It must be
# a dimension of the catalog, and of the completeness metric below.
grain: {grain}

calendar:
  # The data's as-of time: the newest value of a column ...
  as_of:
    table: {table}
    column: {time_column}
  # ... or a query returning one timestamp:
  #   sql: SELECT max(loaded_at) AS as_of FROM etl_runs
  week_start: monday          # reports use ISO weeks (Monday to Sunday)
  time_zone: UTC              # the zone the warehouse's timestamps are in (an IANA name)

# The data-quality gate: a catalog metric counting rows per week (kind: count). A week with fewer than
# min_ratio × the median of the previous trailing_weeks is reported as incomplete.
completeness:
  metric: {completeness}
  trailing_weeks: 4
  min_ratio: 0.6

# Optional: experiment designs (one row per experiment: experiment_id, name, unit, designed_split,
# primary_metric, guardrail_metrics, ...) and units (one row per randomised unit) for the experiment readout.
# experiments:
#   designs: ab_designs
#   units: ab_units

# Optional: a query returning key/value rows that `gne warehouse info` shows.
# metadata: SELECT key, value FROM etl_metadata
"""


def register(app: typer.Typer) -> None:
    """Add `gne init` and `gne check` to the top-level app."""
    app.command("init")(init)
    app.command("check")(check)


def init(
    source: Annotated[str, typer.Option(help="Where the data is, e.g. duckdb:///data/shop.duckdb.")],
    table: Annotated[str, typer.Option(help="The main fact table (its time column gives the as-of time).")],
    time_column: Annotated[str, typer.Option(help="The fact table's event time column.")],
    catalog: Annotated[str, typer.Option(help="The metric catalog directory (relative to the config).")] = "catalog",
    grain: Annotated[str, typer.Option(help="The report grain dimension.")] = "market",
    completeness: Annotated[str, typer.Option(help="The catalog metric counting rows per week.")] = "orders",
    path: Annotated[Path, typer.Option(help="Where to write the config.")] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.")] = False,
) -> None:
    """Write a commented gne.yaml for a new warehouse (then write its catalog and run `gne check`)."""
    scheme, separator, _ = source.partition("://")
    if separator and scheme not in ENGINES:
        print(f"error: --source {source!r}: unknown engine {scheme!r}; use one of {', '.join(ENGINES)}.",
              file=sys.stderr)
        raise typer.Exit(EXIT_PROBLEMS)
    if path.exists() and not force:
        print(f"error: {path} exists; pass --force to overwrite it.", file=sys.stderr)
        raise typer.Exit(EXIT_PROBLEMS)
    path.write_text(TEMPLATE.format(source=source, catalog=catalog, grain=grain, table=table,
                                    time_column=time_column, completeness=completeness), encoding="utf-8")
    print(f"wrote {path}: describe your metrics in {catalog}/ (see README.md), then run `gne check`.")


def check(
    warehouse: Annotated[str | None, typer.Option(help="Override the config's source.", show_default=False)] = None,
    catalog: Annotated[Path | None, typer.Option(help="Override the config's catalog.", show_default=False)] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Only check names; do not run each metric's query.")] = False,
) -> None:
    """Check gne.yaml, the metric catalog and the goal files against the live warehouse: every table, view and column
    exists, every metric's query runs and every goal is valid (not with --quick). Exit status 0 when everything is
    usable, 2 otherwise (each problem on one line)."""
    from gnelib.check import check_project
    from gnelib.reporting.facts import resolve_project

    try:
        project = resolve_project(warehouse, catalog)
    except GneError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_PROBLEMS) from None
    report = check_project(project, execute=not quick)
    print(f"config {project.origin}; source {mask_url(project.source)}; catalog {project.catalog}; "
          f"grain {project.grain}")
    if report.ok:
        goals = f"; {report.checked_goals} goals valid" if report.checked_goals else ""
        print(f"ok: {report.checked_metrics} metrics over {report.tables} tables, grain, calendar and completeness "
              f"check usable{goals}.")
        raise typer.Exit(EXIT_OK)
    for line in report.lines():
        print(f"problem: {line}", file=sys.stderr)
    usable = report.checked_metrics - len(report.unavailable)
    print(f"{len(report.lines())} problem(s); {usable} of {report.checked_metrics} metrics usable.", file=sys.stderr)
    raise typer.Exit(EXIT_PROBLEMS)
