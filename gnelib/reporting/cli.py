"""`gne run`: execute report templates (one, or a plan's grid) and publish HTML under reports/."""

import os
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gnelib.errors import GneError
from gnelib.reporting.batch import FAILED_STATUSES, BatchOptions, Decision, decide, run_batch
from gnelib.reporting.errors import LockBusy, ParameterError
from gnelib.reporting.index import INDEX_NAME
from gnelib.reporting.lock import run_lock
from gnelib.reporting.params import ValidationContext
from gnelib.reporting.plan import build_spec, expand_plan, load_plan
from gnelib.reporting.spec import RunSpec

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3


class Isolation(str, Enum):
    warm = "warm"
    fresh = "fresh"


def register(app: typer.Typer) -> None:
    """Add the reporting commands to the top-level app."""
    app.command(
        "run",
        no_args_is_help=True,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(run)


def run(
    context: typer.Context,
    target: Path = typer.Argument(
        ..., help="A run plan (parameters/weekly.yaml) or one template (notebooks/weekly_scorecard.ipynb)."
    ),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", "-w", min=1, help="Parallel worker processes."),
    timeout: float = typer.Option(1800.0, "--timeout", min=1, help="Seconds one run may take before it is stopped."),
    force: bool = typer.Option(False, "--force", help="Re-run even the reports whose inputs are unchanged."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would run and what would be skipped; run nothing."),
    isolation: Isolation = typer.Option(
        Isolation.warm,
        "--isolation",
        help="warm: each worker reuses one kernel, reset between runs (fast); fresh: a new kernel per run.",
    ),
    reports_dir: Path = typer.Option(Path("reports"), "--reports-dir", help="Where reports and index.html go."),
    warehouse: Path | None = typer.Option(
        None, "--warehouse", help="Warehouse file (default: $GNE_WAREHOUSE, else data/gne.duckdb)."
    ),
    wait: bool = typer.Option(False, "--wait", help="If another run holds the reports directory, wait for it."),
) -> None:
    """Validate parameters, execute templates in parallel with papermill, and write HTML reports + index.

    For one template, give parameters papermill-style: -p NAME VALUE (repeat), e.g.
    gne run notebooks/seller_risk.ipynb -p market ID -p week latest

    Exit status: 0 all reports ok (or skipped as unchanged), 1 some run failed, 2 bad input (nothing ran),
    3 another run holds the reports directory.
    """
    err = Console(stderr=True)
    try:
        validation = ValidationContext(warehouse)
        specs = _specs(target, _parameter_pairs(context.args), reports_dir, validation)
        decisions = decide(specs, reports_dir, force)
    except GneError as error:
        err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if dry_run:
        _print_plan(decisions)
        raise typer.Exit(EXIT_OK)
    options = BatchOptions(reports_dir, workers, timeout, force, isolation.value)
    try:
        with run_lock(reports_dir, str(target), wait=wait):
            records = run_batch(decisions, options, validation.facts)
    except LockBusy as error:
        err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
        raise typer.Exit(EXIT_LOCKED) from None
    failed = _print_summary(records)
    print(reports_dir / INDEX_NAME)
    raise typer.Exit(EXIT_RUN_FAILED if failed else EXIT_OK)


def _parameter_pairs(arguments: list[str]) -> list[tuple[str, str]]:
    """`-p NAME VALUE` / `--parameter NAME VALUE` pairs from the extra command-line arguments."""
    pairs, rest = [], list(arguments)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter") or len(rest) < 2:
            raise ParameterError(
                f"Unexpected argument {flag!r}: give template parameters as -p NAME VALUE, e.g. -p market US."
            )
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs


def _specs(
    target: Path, parameter: list[tuple[str, str]], reports_dir: Path, context: ValidationContext
) -> list[RunSpec]:
    if target.suffix in (".yaml", ".yml"):
        if parameter:
            raise ParameterError("-p/--parameter applies to a single template; put plan values in the YAML file.")
        return expand_plan(load_plan(target), target, reports_dir, context)
    if target.suffix != ".ipynb":
        raise ParameterError(f"{target} is neither a plan (.yaml) nor a template (.ipynb).")
    values: dict[str, object] = {}
    for name, value in parameter:
        if name in values:
            raise ParameterError(f"Parameter {name!r} is given twice (-p {name} ...); give it once.")
        values[name] = value
    return [build_spec(target, values, reports_dir, context)]


def _print_plan(decisions: list[Decision]) -> None:
    table = Table(title="gne run --dry-run", show_lines=False)
    for column in ("action", "report", "why", "parameters"):
        table.add_column(column, overflow="fold")
    for decision in decisions:
        table.add_row(
            "run" if decision.run else "skip", decision.spec.slot, decision.reason, str(decision.spec.parameters)
        )
    Console().print(table)
    runs = sum(decision.run for decision in decisions)
    print(f"{runs} to run, {len(decisions) - runs} to skip")


def _print_summary(records: list[dict]) -> bool:
    counts: dict[str, int] = {}
    for record in records:
        key = "skipped" if record["action"] == "skipped" else record["status"]
        counts[key] = counts.get(key, 0) + 1
    console = Console(file=sys.stdout)
    console.print("summary: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    failures = [record for record in records if record["status"] in FAILED_STATUSES and record["action"] == "ran"]
    if failures:
        table = Table(title="failed runs")
        for column in ("report", "status", "error", "notebook", "log"):
            table.add_column(column, overflow="fold")
        for record in failures:
            error = record.get("error") or {}
            table.add_row(
                record["slot"],
                record["status"],
                f"{error.get('kind', '')}: {error.get('ename', '')}: {error.get('evalue', '')}",
                record.get("notebook") or "-",
                record["log"],
            )
        console.print(table, highlight=False, markup=False)
    return bool(failures)
