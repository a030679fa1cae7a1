"""Run many report slots: decide run/skip, execute on a process pool, show progress, keep the manifest."""

import datetime as dt
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from gnelib.atomic import is_no_space, remove_temporaries
from gnelib.reporting import worker
from gnelib.reporting.aggregates import prepare_store
from gnelib.reporting.alerts import alert_settings, send_alerts
from gnelib.reporting.digest import publish_digests, weeks_to_compare
from gnelib.reporting.environment import kernel_environment
from gnelib.reporting.facts import WarehouseFacts
from gnelib.reporting.index import write_index
from gnelib.reporting.lifecycle import signals_deferred, stop_workers
from gnelib.reporting.manifest import load_manifest, save_manifest
from gnelib.reporting.requirements import reads_metrics
from gnelib.reporting.rerun import rerun_command
from gnelib.reporting.rundir import KERNEL_DIR_ENV, private_run_directory, sweep
from gnelib.reporting.spec import RunSpec

FAILED_STATUSES = ("failed", "stale-previous-kept")


@dataclass(frozen=True)
class BatchOptions:
    """How to run: see `gne run --help`."""

    reports_dir: Path
    workers: int = os.cpu_count() or 1
    timeout: float | None = None
    force: bool = False
    isolation: str = "warm"


@dataclass(frozen=True)
class Decision:
    """Whether a slot runs this time, and why."""

    spec: RunSpec
    input_hash: str
    run: bool
    reason: str


def decide(specs: Sequence[RunSpec], reports_dir: Path, force: bool) -> list[Decision]:
    """Skip a slot whose last run succeeded with the same input hash and whose report still exists."""
    manifest = load_manifest(reports_dir)
    decisions = []
    for spec in specs:
        digest = spec.input_hash()
        previous = manifest.get(spec.slot)
        if spec.unmet:
            decision = Decision(spec, digest, False, "not applicable (reason above)")
        elif force:
            decision = Decision(spec, digest, True, "forced (--force)")
        elif previous is None:
            decision = Decision(spec, digest, True, "new")
        elif previous["input_hash"] != digest:
            decision = Decision(spec, digest, True, "inputs changed (template, parameters, gnelib or data)")
        elif previous["status"] != "ok":
            decision = Decision(spec, digest, True, f"last run {previous['status']}")
        elif not spec.paths.html.exists():
            decision = Decision(spec, digest, True, "report file missing")
        else:
            decision = Decision(spec, digest, False, f"unchanged since {previous['started']}")
        decisions.append(decision)
    return decisions


def run_batch(decisions: Sequence[Decision], options: BatchOptions, facts: WarehouseFacts) -> list[dict]:
    """Execute the decided runs in parallel; record skips; update runs.json and index.html.

    Returns this batch's records (ran and skipped) in plan order. One failing run never stops the others. Call it
    holding the reports directory's lock: it first removes what a killed run left (`clean_up_after_kills`).
    """
    reports_dir = options.reports_dir
    clean_up_after_kills(reports_dir)
    manifest = load_manifest(reports_dir)
    records: dict[str, dict] = {}
    for decision in decisions:
        if decision.spec.unmet:
            records[decision.spec.slot] = manifest[decision.spec.slot] = _not_applicable_record(decision)
        elif not decision.run:
            records[decision.spec.slot] = {**manifest[decision.spec.slot], "action": "skipped"}
            manifest[decision.spec.slot] = records[decision.spec.slot]
    jobs = [
        worker.Job(decision.spec, decision.input_hash, facts.as_of, options.timeout, reports_dir,
                   rerun_command(decision.spec, reports_dir, facts, Path.cwd()), facts.grain)
        for decision in decisions
        if decision.run
    ]
    with closing(_execute(jobs, options, facts)) as finished:  # an error here stops the workers at once
        for record in finished:
            records[record["slot"]] = manifest[record["slot"]] = record
            save_manifest(reports_dir, manifest)
    save_manifest(reports_dir, manifest)
    digests = publish_digests(reports_dir, facts, list(records.values()), manifest)
    write_index(reports_dir, manifest, facts.grain)
    if jobs:  # a batch that only skipped unchanged reports says nothing new
        send_alerts(digests, alert_settings(facts))
    return [records[decision.spec.slot] for decision in decisions]


def _execute(jobs: list[worker.Job], options: BatchOptions, facts: WarehouseFacts):
    """Yield run records as runs finish, with a progress bar (TTY) or one line per run (logs) on stderr.

    If anything interrupts the batch (a stop signal, a full disk, the caller closing this generator), the workers
    are killed and waited for, their kernels with them, before the exception goes on (see `lifecycle`)."""
    if not jobs:
        return
    workers = max(1, min(options.workers, len(jobs)))
    environment = kernel_environment(facts, options.reports_dir, workers)
    planned = [{"template": job.spec.name, "week": job.spec.week} for job in jobs]
    store_weeks = {job.spec.week for job in jobs if reads_metrics(job.spec.template)}
    if store_weeks:  # a batch of templates that never compute a metric (own SQL, plain files) starts at once
        environment.update(prepare_store(options.reports_dir, facts.data_version, store_weeks, environment,
                                         weeks_to_compare(options.reports_dir, facts, planned)))
    with private_run_directory() as kernel_dir:  # removed once the workers and their kernels have exited
        environment[KERNEL_DIR_ENV] = str(kernel_dir)
        with ProcessPoolExecutor(
            workers,
            mp_context=_start_method(),
            initializer=worker.initialize,
            initargs=(options.isolation, Path.cwd(), environment, os.getpid()),
        ) as pool:
            try:
                yield from _progress(pool, jobs, workers)
            except BaseException:
                stop_workers(pool)
                raise


def clean_up_after_kills(reports_dir: Path) -> None:
    """Remove the temporary files a killed run left in the reports directory and the private kernel directories
    of killed runs (`rundir`); one line on stderr when there were any."""
    files, folders = remove_temporaries(reports_dir), sweep()
    if files or folders:
        print(f"cleaned up after an interrupted run: {len(files)} temporary file(s) in {reports_dir.name}/, "
              f"{len(folders)} kernel connection folder(s)", file=sys.stderr, flush=True)


def _progress(pool: ProcessPoolExecutor, jobs: list[worker.Job], workers: int):
    """Submit the jobs and yield their records as they finish, showing progress on stderr."""
    with signals_deferred():  # a stop signal inside submit would leave the pool's lock taken for its shutdown
        futures = {pool.submit(worker.run_job, job): job for job in jobs}  # starts the workers
    bar = tqdm(
        total=len(jobs), desc="gne run", unit="report", file=sys.stderr, disable=not sys.stderr.isatty()
    )
    bar.set_postfix_str(f"running {min(workers, len(jobs))} of {len(jobs)}")
    for done, future in enumerate(as_completed(futures), start=1):
        job = futures[future]
        try:
            record = future.result()
        except Exception as error:  # a crashed worker process fails its run, not the batch
            record = _crashed_record(job, error)
        line = (
            f"[{done}/{len(jobs)}] {record['status']:<19} {record['slot']} ({record['duration_s']:.1f} s)"
        )
        bar.set_postfix_str(f"last: {record['slot']} {record['status']}")
        bar.update()
        if bar.disable:
            print(line, file=sys.stderr, flush=True)
        else:
            bar.write(line, file=sys.stderr)
        yield record
    bar.close()


def _start_method():
    """`fork` where available: workers inherit the imported modules instead of re-importing them (seconds
    per worker). The pool is created before this process starts a thread (tqdm's monitor) or a kernel."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _not_applicable_record(decision: Decision) -> dict:
    """The manifest record of a template that does not run on this warehouse, with the reason."""
    spec = decision.spec
    return {
        "slot": spec.slot, "template": spec.name, "template_path": str(spec.template), "market": spec.market,
        "week": spec.week, "parameters": spec.parameters, "action": "not-run", "input_hash": decision.input_hash,
        "data_version": spec.data_version, "status": "not-applicable", "reason": spec.unmet,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "duration_s": 0.0, "attempts": 0,
        "html": None, "failure_page": None, "notebook": None, "log": None, "error": None,
    }


def _crashed_record(job: worker.Job, error: BaseException) -> dict:
    return {
        **worker.run_identity(job),
        "status": "failed",
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": 0.0,
        "attempts": 1,
        "html": None,
        "failure_page": None,
        "notebook": None,
        "log": job.spec.paths.log.relative_to(job.reports_dir.resolve()).as_posix(),
        "error": {
            "kind": "disk-full" if is_no_space(error) else "internal",
            "ename": type(error).__name__,
            "evalue": f"worker process failed: {error}",
        },
    }
