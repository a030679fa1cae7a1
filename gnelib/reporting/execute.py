"""Execute one parameterised notebook with papermill in a kernel from a KernelSource.

papermill does the parameterising (`parameterize_notebook`), the cell bookkeeping and the error banner; our
engine (`gne-kernel`, registered in papermill's engine registry) only swaps in a kernel we started, so a warm
kernel can be reused. A watchdog enforces the per-run timeout (interrupt, then kill); a kernel that dies for
any other reason is replaced and the run retried once.
"""

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
from nbclient.exceptions import DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError

from gnelib.atomic import disk_full, is_no_space, temporary_beside
from gnelib.reporting.kernel_pool import KERNEL_NAME, Kernel, KernelSource

ENGINE_NAME = "gne-kernel"
KILL_GRACE_SECONDS = 10.0
log = logging.getLogger("gnelib.reporting.run")


class GivenKernelEngine(NBClientEngine):
    """papermill's nbclient engine, executing in the kernel passed as `kernel=` instead of starting one."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        kernel: Kernel | None = None,
        **kwargs,
    ):
        if kernel is None:
            raise ValueError(f"the {ENGINE_NAME} engine needs kernel=<a started Kernel>")
        client = PapermillNotebookClient(
            nb_man,
            km=kernel.manager,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logging.getLogger("papermill"),
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client.kc = kernel.client
        return client.execute()


papermill_engines.register(ENGINE_NAME, GivenKernelEngine)


@dataclass(frozen=True)
class RunFailure:
    """Why a run failed: `error` (a cell raised), `timeout`, `kernel-died`, `disk-full`, or `internal`."""

    kind: str
    ename: str
    evalue: str
    cell_index: int | None = None
    execution_count: int | None = None
    cell_source: str = ""

    def summary(self) -> str:
        where = f" in code cell [{self.execution_count}]" if self.execution_count else ""
        return f"{self.kind}{where}: {self.ename}: {self.evalue}"


@dataclass
class Execution:
    """The executed notebook (also of a failed run; None if nothing ran or it was cut short) and the failure."""

    notebook: nbformat.NotebookNode | None
    failure: RunFailure | None
    attempts: int

    @property
    def ok(self) -> bool:
        return self.failure is None


class Watchdog:
    """After `seconds`, interrupt the kernel; `KILL_GRACE_SECONDS` later, kill it."""

    def __init__(self, kernel: Kernel, seconds: float | None):
        self.fired = False
        self._timers = []
        if seconds:
            self._timers = [
                threading.Timer(seconds, self._interrupt, args=(kernel,)),
                threading.Timer(seconds + KILL_GRACE_SECONDS, kernel.kill),
            ]

    def _interrupt(self, kernel: Kernel) -> None:
        self.fired = True
        kernel.interrupt()

    def __enter__(self) -> "Watchdog":
        for timer in self._timers:
            timer.daemon = True
            timer.start()
        return self

    def __exit__(self, *exc) -> None:
        for timer in self._timers:
            timer.cancel()


def execute_run(
    template: Path, parameters: dict, notebook_path: Path, source: KernelSource, timeout: float | None
) -> Execution:
    """Run `template` with `parameters`; returns the executed notebook (with its error, if any) without writing it
    anywhere: the caller decides where it goes. papermill writes it as it runs to a temporary file beside
    `notebook_path` (the same filesystem as the reports, so a full disk shows here), removed at the end; a notebook
    cut short by a full disk is not returned. Retries once if the kernel dies on its own."""
    temporary = temporary_beside(notebook_path)
    try:
        for attempt in (1, 2):
            notebook, failure = _attempt(template, parameters, temporary, source, timeout)
            if failure is None or failure.kind != "kernel-died" or attempt == 2:
                break
            log.warning("kernel died (attempt %d); restarting it and retrying the run once", attempt)
        if failure is not None and failure.kind == "disk-full":
            return Execution(None, dataclasses.replace(failure, evalue=str(disk_full(notebook_path))), attempt)
        if notebook is None and temporary.stat().st_size > 0:
            try:
                notebook = nbformat.read(temporary, as_version=4)
            except ValueError as error:
                log.warning("executed notebook not kept: %s", error)
                failure = failure or RunFailure("internal", type(error).__name__, str(error))
        return Execution(notebook, failure, attempt)
    finally:
        temporary.unlink(missing_ok=True)


def _attempt(
    template, parameters, output, source, timeout
) -> tuple[nbformat.NotebookNode | None, RunFailure | None]:
    started = time.monotonic()
    try:
        kernel = source.acquire()
    except Exception as error:  # a kernel that cannot start fails this run only
        return None, RunFailure("internal", type(error).__name__, f"kernel did not start: {error}")
    watchdog = Watchdog(kernel, timeout)
    try:
        with watchdog:
            notebook = papermill.execute_notebook(
                str(template),
                str(output),
                parameters=parameters,
                engine_name=ENGINE_NAME,
                kernel_name=KERNEL_NAME,
                kernel=kernel,
                progress_bar=False,
                log_output=True,
            )
        log.info("executed in %.1f s", time.monotonic() - started)
        return notebook, None
    except PapermillExecutionError as error:
        if watchdog.fired:
            return None, _timeout_failure(timeout, error.cell_index, error.exec_count, error.source)
        return None, RunFailure(
            "error", error.ename, error.evalue, error.cell_index, error.exec_count, error.source or ""
        )
    except DeadKernelError as error:
        if watchdog.fired:
            return None, _timeout_failure(timeout)
        return None, RunFailure("kernel-died", "DeadKernelError", f"the kernel process died ({error})")
    except OSError as error:
        if not is_no_space(error):
            log.exception("run failed outside the notebook")
            return None, RunFailure("internal", type(error).__name__, str(error))
        return None, RunFailure("disk-full", "DiskFull", str(error))
    except Exception as error:  # anything else must not stop the batch; the log has the traceback
        log.exception("run failed outside the notebook")
        return None, RunFailure("internal", type(error).__name__, str(error))
    finally:
        if not watchdog.fired:
            source.release(kernel)
        elif source.isolation == "warm":
            source.discard()
        else:
            kernel.shutdown()


def _timeout_failure(timeout, cell_index=None, execution_count=None, source="") -> RunFailure:
    return RunFailure(
        "timeout",
        "Timeout",
        f"the run took longer than --timeout {timeout:g} s and was stopped",
        cell_index,
        execution_count,
        source or "",
    )
