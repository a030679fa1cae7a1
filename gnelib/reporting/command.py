"""What `gne run` does: build the runs, decide run/skip, hold the lock, run the batch, report. Returns the
exit status: 0 all ok (or skipped as unchanged), 1 some run failed (or the disk is full), 2 bad input (nothing
ran), 3 busy, 128 + N stopped by signal N (SIGTERM 143, SIGINT 130) after its workers and kernels exited."""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gnelib.atomic import DiskFull
from gnelib.check import check_project, problems_text
from gnelib.errors import GneError
from gnelib.reporting.errors import LockBusy, ParameterError, UnsafePath, echo
from gnelib.reporting.facts import resolve_project
from gnelib.reporting.params import ValidationContext
from gnelib.reporting.paths import planted_links
from gnelib.reporting.plan import Plan, build_spec, expand_plan, flagged_runs, load_plan

if TYPE_CHECKING:
    from gnelib.reporting.batch import Decision
    from gnelib.reporting.spec import RunSpec

EXIT_OK, EXIT_RUN_FAILED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3
MAX_WARNINGS = 20


@dataclass(frozen=True)
class RunRequest:
    """The options of one `gne run` invocation (see `gne run --help`)."""

    target: Path
    parameters: list[tuple[str, str]]
    workers: int
    timeout: float | None
    force: bool
    dry_run: bool
    isolation: str
    reports_dir: Path
    warehouse: str | None
    wait: bool
    catalog: Path | None = None
    flagged: bool = False


def run_command(request: RunRequest) -> int:
    """Run `gne run`; print the summary and the index path; return the exit status."""
    reports_dir = request.reports_dir.resolve()
    try:
        refuse_planted_links(reports_dir)
        project = resolve_project(request.warehouse, request.catalog)
        report = check_project(project, execute=False)
        if report.fatal:
            for line in report.lines():
                print(f"error: {line}", file=sys.stderr)
            print("Nothing ran: fix the config or the warehouse (`gne check` lists every problem).", file=sys.stderr)
            return EXIT_BAD_INPUT
        for line in problems_text(report, limit=MAX_WARNINGS):
            print(f"warning: {line} — reports leave this metric out", file=sys.stderr)
        validation = ValidationContext(project=project, unavailable=tuple(report.unavailable))
        specs, plan = _specs(request, reports_dir, validation)
    except GneError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # Imported once the input is valid, so bad input is rejected without loading the executor (papermill, scipy).
    from gnelib.reporting.batch import BatchOptions, decide, run_batch
    from gnelib.reporting.index import INDEX_NAME
    from gnelib.reporting.lifecycle import Stopped, stop_on_signals
    from gnelib.reporting.lock import run_lock

    options = BatchOptions(reports_dir, request.workers, request.timeout, request.force, request.isolation)
    lock = nullcontext() if request.dry_run else run_lock(reports_dir, str(request.target), wait=request.wait)
    try:
        with stop_on_signals(), lock:  # a flagged plan scans here: a run waiting for the lock has done no work
            specs += flagged_runs(plan, request.target, reports_dir, validation) if plan else []
            decisions = decide(specs, reports_dir, request.force)
            _print_not_applicable(decisions)
            if request.dry_run:
                _print_plan(decisions)
                return EXIT_OK
            records = run_batch(decisions, options, validation.facts)
    except LockBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except UnsafePath as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DiskFull as error:  # the workers have stopped; every file written before is intact
        print(f"error: {error}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except GneError as error:  # a flagged deep dive's parameters
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Stopped as stop:
        print(f"gne run {stop}: its workers and kernels have exited; finished reports are recorded in runs.json, "
              "run the same command again for the rest.", file=sys.stderr)
        return stop.exit_status
    failed = _print_summary(records)
    print(shown(reports_dir / INDEX_NAME))
    return EXIT_RUN_FAILED if failed else EXIT_OK


def shown(path: Path) -> Path:
    """`path` (resolved: no `..`) relative to the working directory when it is inside it, else absolute."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def refuse_planted_links(reports_dir: Path) -> None:
    """Raise UnsafePath naming every symbolic link inside the reports directory (a run writes through none)."""
    from gnelib.reporting.lock import unsafe_link

    links = planted_links(reports_dir)
    if len(links) == 1:
        raise unsafe_link(links[0])
    if links:
        listing = "\n".join(f"  {link} -> {os.readlink(link)}" for link in links)
        raise UnsafePath(
            f"{reports_dir} contains symbolic links: a write through them could land outside the reports "
            f"directory, so gne run refuses. Remove them and run again:\n{listing}"
        )


def _specs(request: RunRequest, reports_dir: Path, context: ValidationContext) -> tuple[list[RunSpec], Plan | None]:
    """The validated runs, and the plan whose flagged deep dives are still to add (under the lock)."""
    target, parameter = request.target, request.parameters
    if target.suffix in (".yaml", ".yml"):
        if parameter or request.flagged:
            raise ParameterError(
                "-p/--parameter and --flagged apply to a single template; put plan values in the YAML file."
            )
        plan = load_plan(target)
        return expand_plan(plan, target, reports_dir, context, follow_flags=False), plan
    if target.suffix != ".ipynb":
        raise ParameterError(f"{target} is neither a plan (.yaml) nor a template (.ipynb).")
    values: dict[str, object] = {}
    for name, value in parameter:
        if name in values:
            raise ParameterError(f"Parameter {echo(name)} is given twice; give it once.")
        values[name] = value
    spec = build_spec(target, values, reports_dir, context)
    if not request.flagged:
        return [spec], None
    if "metric" not in spec.parameters:
        raise ParameterError(f"--flagged needs a deep-dive template with a metric parameter; {target.name} has none.")
    from gnelib.reporting.flagged import as_flagged

    return [as_flagged(spec, reports_dir)], None


def _print_not_applicable(decisions: list[Decision]) -> None:
    """One line per template that does not run on this warehouse, with the reason."""
    reasons = {decision.spec.name: decision.spec.unmet for decision in decisions if decision.spec.unmet}
    for name, reason in reasons.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)


def _print_plan(decisions: list[Decision]) -> None:
    from rich.table import Table

    from gnelib.console import make_console

    table = Table(title="gne run --dry-run", show_lines=False)
    for column in ("action", "report", "why", "parameters"):
        table.add_column(column, overflow="fold")
    for decision in decisions:
        table.add_row(
            "run" if decision.run else "not applicable" if decision.spec.unmet else "skip",
            decision.spec.slot,
            decision.reason,
            ", ".join(f"{name}={echo(value)}" for name, value in decision.spec.parameters.items()),
        )
    make_console().print(table)
    runs = sum(decision.run for decision in decisions)
    print(f"{runs} to run, {len(decisions) - runs} to skip")


def _print_summary(records: list[dict]) -> bool:
    """One summary line, then one block per failed run (plain text: it ends up in cron logs)."""
    from gnelib.reporting.batch import FAILED_STATUSES

    counts: dict[str, int] = {}
    for record in records:
        key = "skipped" if record["action"] == "skipped" else record["status"]
        counts[key] = counts.get(key, 0) + 1
    print("summary: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    failures = [
        record for record in records if record["status"] in FAILED_STATUSES and record["action"] == "ran"
    ]
    if failures:
        print(f"failed runs ({len(failures)}):")
    full = [record for record in failures if (record.get("error") or {}).get("kind") == "disk-full"]
    if full:
        print(f"  {full[0]['error']['evalue']} ({len(full)} run(s) kept their previous files: "
              + ", ".join(record["slot"] for record in full) + ")")
    for record in (record for record in failures if record not in full):
        error = record.get("error") or {}
        print(
            f"  FAILED {record['slot']} [{record['status']}] {error.get('kind')}: {error.get('ename')}: "
            f"{error.get('evalue')}"
        )
        print(f"    notebook: {record.get('notebook') or '-'}   log: {record['log']}")
    return bool(failures)
