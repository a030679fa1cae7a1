"""What one pool process does: hold a KernelSource, and turn a Job into files on disk and a run record."""

import datetime as dt
import logging
import multiprocessing.util
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

import gnelib
from gnelib.atomic import AtomicWriteError, DiskFull, atomic_write_text, commit, is_no_space, temporary_beside
from gnelib.reporting.execute import Execution, RunFailure, execute_run
from gnelib.reporting.failure import is_good_report, mark_stale, render_failure_page
from gnelib.reporting.kernel_pool import KernelSource
from gnelib.reporting.lifecycle import accept_signals, die_with_parent
from gnelib.reporting.render import ReportHeader, notebook_title, render_report
from gnelib.reporting.spec import RunSpec

_source: KernelSource | None = None


@dataclass(frozen=True)
class Job:
    """A run to execute, with what the page header and the skip check need."""

    spec: RunSpec
    input_hash: str
    as_of: str
    timeout: float | None
    reports_dir: Path
    rerun: str = ""  # the command that re-runs this slot alone (shown on its failure page)
    grain: str = "market"  # the project config's report grain, which the page header names


def initialize(isolation: str, cwd: Path, environment: dict[str, str], parent: int | None = None) -> None:
    """Pool initializer: die with `parent` (the `gne run` process), leave SIGINT to it, set the kernels'
    environment and create this process's kernel source."""
    global _source
    if parent is not None:
        die_with_parent(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited through fork
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        accept_signals()  # forked while the parent held them back
    os.environ.update(environment)
    _source = KernelSource(isolation, cwd)
    multiprocessing.util.Finalize(None, _source.discard, exitpriority=10)


def shutdown() -> None:
    """Stop this process's warm kernel (used when running in-process, without a pool)."""
    if _source is not None:
        _source.discard()


def run_job(job: Job) -> dict:
    """Execute, render and write one report slot; returns the run record (a failing notebook is no error)."""
    assert _source is not None, "call initialize() first"
    spec, paths = job.spec, job.spec.paths
    paths.directory.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    handler = _attach_log(paths.log)
    log = logging.getLogger("gnelib.reporting.run")
    execution, status, failure = Execution(None, None, 0), "failed", None
    try:
        log.info("run %s: template %s, parameters %s", spec.slot, spec.template, spec.parameters)
        log.info(
            "input hash %s, data version %s, isolation %s",
            job.input_hash,
            spec.data_version,
            _source.isolation,
        )
        execution = execute_run(spec.template, spec.parameters, paths.notebook, _source, job.timeout)
        header = ReportHeader(
            title=notebook_title(execution.notebook, spec.name) if execution.notebook else spec.name,
            market=spec.market,
            week=spec.week,
            as_of=job.as_of,
            generated=started.strftime("%Y-%m-%d %H:%M UTC"),
            version=gnelib.__version__,
            input_hash=job.input_hash,
            grain=job.grain,
        )
        status, failure = _publish(job, execution, header)
        log.info("status %s%s", status, f" ({failure.summary()})" if failure else "")
    except DiskFull as error:  # the previous files are kept; the parent reports it once
        status = "stale-previous-kept" if is_good_report(paths.html) else "failed"
        failure = RunFailure("disk-full", "DiskFull", str(error))
    finally:
        logging.getLogger("papermill").removeHandler(handler)
        log.removeHandler(handler)
        handler.publish(paths.failed_log if status == "stale-previous-kept" else paths.log)  # full disk: kept

    def rel(path: Path) -> str | None:
        return path.relative_to(job.reports_dir.resolve()).as_posix() if path.exists() else None

    kept = status == "stale-previous-kept"
    return {
        **run_identity(job),
        "status": status,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - clock, 2),
        "attempts": execution.attempts,
        "html": rel(paths.html),
        "failure_page": rel(paths.failure) if kept else None,
        "notebook": rel(paths.failed_notebook if kept else paths.notebook),
        "log": rel(paths.failed_log if kept else paths.log),
        "kept_notebook": rel(paths.notebook) if kept else None,  # the kept report's own notebook and log
        "kept_log": rel(paths.log) if kept else None,
        "error": asdict(failure) if failure else None,
    }


def run_identity(job: Job) -> dict:
    """The manifest fields that say which run a record is about (same for a finished and a crashed run)."""
    spec = job.spec
    return {
        "slot": spec.slot,
        "template": spec.name,
        "template_path": str(spec.template),
        "market": spec.market,
        "week": spec.week,
        "parameters": spec.parameters,
        "action": "ran",
        "input_hash": job.input_hash,
        "data_version": spec.data_version,
    }


def _publish(job: Job, execution: Execution, header: ReportHeader) -> tuple[str, RunFailure | None]:
    """Write the notebook and the report, or the failed run's notebook and failure page beside a kept previous
    good report (which then carries a stale banner); (status, failure)."""
    paths = job.spec.paths
    failure = execution.failure
    if failure is None:
        try:
            page = render_report(execution.notebook, header)
        except Exception as error:  # a rendering bug fails this run only; the previous report stays
            logging.getLogger("gnelib.reporting.run").exception("rendering failed")
            failure = RunFailure("render", type(error).__name__, str(error))
        else:
            _write_notebook(paths.notebook, execution.notebook)
            atomic_write_text(paths.html, page)
            for stale in (paths.failure, paths.failed_notebook, paths.failed_log):
                stale.unlink(missing_ok=True)
            return "ok", None
    keep_previous = is_good_report(paths.html)
    notebook = paths.failed_notebook if keep_previous else paths.notebook
    if execution.notebook is not None:
        _write_notebook(notebook, execution.notebook)
    page = render_failure_page(
        header,
        rerun=job.rerun,
        template=job.spec.name,
        failure=failure,
        notebook=notebook.name if notebook.exists() else None,
        log=(paths.failed_log if keep_previous else paths.log).name,
        previous_kept=paths.html.name if keep_previous else None,
    )
    atomic_write_text(paths.failure if keep_previous else paths.html, page)
    if keep_previous:
        mark_stale(paths.html, failed_at=header.generated, failure_page=paths.failure.name)
    return ("stale-previous-kept" if keep_previous else "failed"), failure


def _write_notebook(path: Path, notebook: nbformat.NotebookNode) -> None:
    atomic_write_text(path, nbformat.writes(notebook))


class RunLog(logging.FileHandler):
    """The run's log, written to a hidden temporary file beside `target` and renamed onto it by `publish` (a link
    planted at `target` is replaced, never written through). A failed write (a full disk) is remembered once
    instead of printing a logging traceback per record; the previous log is then kept."""

    def __init__(self, target: Path):
        self.target = target
        self.error: BaseException | None = None
        super().__init__(temporary_beside(target), mode="w", encoding="utf-8")

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 — logging's name
        if self.error is None:
            self.error = sys.exc_info()[1]

    def publish(self, target: Path | None = None) -> None:
        """Close the log and rename it onto `target` (default: the one given at creation), unless the disk filled
        up while writing it."""
        temporary = Path(self.baseFilename)
        try:
            self.close()
            if not is_no_space(self.error):
                commit(temporary, target or self.target)
        except (OSError, AtomicWriteError):
            pass  # a full disk: the previous log stays
        finally:
            temporary.unlink(missing_ok=True)


def _attach_log(path: Path) -> RunLog:
    handler = RunLog(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("papermill", "gnelib.reporting.run"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(handler)
    return handler
