"""`gne run`: the command-line surface only; the work happens in gnelib.reporting.command (imported lazily,
so other `gne` commands do not pay for papermill and nbconvert)."""

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gnelib.errors import GneError
from gnelib.reporting.errors import ParameterError, echo

EXIT_BAD_INPUT = 2


class Isolation(StrEnum):
    """Kernel reuse between runs."""

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
    target: Annotated[
        Path,
        typer.Argument(help="A run plan (parameters/weekly.yaml) or one template (notebooks/<name>.ipynb)."),
    ],
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Parallel worker processes.")] = (
        os.cpu_count() or 1
    ),
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds one run may take before it is stopped (interrupt, then kill)."),
    ] = 1800.0,
    force: Annotated[
        bool, typer.Option("--force", help="Re-run reports whose inputs are unchanged too.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would run and what would be skipped; run nothing.")
    ] = False,
    isolation: Annotated[
        Isolation,
        typer.Option(
            help="warm: each worker reuses one kernel, reset between runs (fast); fresh: one per run."
        ),
    ] = Isolation.warm,
    reports_dir: Annotated[Path, typer.Option(help="Where reports, runs.json and index.html go.")] = Path(
        "reports"
    ),
    warehouse: Annotated[
        str | None,
        typer.Option(help="Warehouse file or URL (default: $GNE_WAREHOUSE, else `source` in gne.yaml).",
                     show_default=False),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(help="Metric catalog directory (default: $GNE_CATALOG, else `catalog` in gne.yaml).",
                     show_default=False),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another run holds the reports directory, wait for it.")
    ] = False,
    flagged: Annotated[
        bool, typer.Option("--flagged", help="One deep-dive template with -p metric NAME: write to that metric's "
                           "flagged deep-dive report, <template>-<metric>.html (as a `deep_dive: flagged` plan).")
    ] = False,
) -> None:
    """Validate parameters, execute templates in parallel with papermill, and write HTML reports + index.

    For one template, give parameters papermill-style: -p NAME VALUE (repeat), e.g.
    gne run notebooks/seller_risk.ipynb -p market ID -p week latest

    Exit status: 0 all reports ok (or skipped as unchanged), 1 some run failed, 2 bad input (nothing ran),
    3 another run holds the reports directory.
    """
    from gnelib.reporting.command import RunRequest, run_command

    try:
        pairs = parameter_pairs(context.args)
    except GneError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    request = RunRequest(
        target, pairs, workers, timeout, force, dry_run, isolation.value, reports_dir, warehouse, wait, catalog,
        flagged,
    )
    raise typer.Exit(run_command(request))


def parameter_pairs(arguments: list[str]) -> list[tuple[str, str]]:
    """`-p NAME VALUE` / `--parameter NAME VALUE` pairs from the extra command-line arguments."""
    pairs, rest = [], list(arguments)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter") or len(rest) < 2:
            raise ParameterError(
                f"Unexpected argument {echo(flag)}: give template parameters as -p NAME VALUE, e.g. -p market US."
            )
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs
