"""Kernels for report runs: a warm kernel reused across runs (reset in between), or a fresh one per run.

A warm kernel imports the heavy modules once, snapshots the interpreter state a fresh kernel would have
(matplotlib rcParams, warning filters, pandas options, cwd, environment) and, after every run, closes all
figures, restores that snapshot, clears the user namespace (`%reset -f`), collects garbage and resets the
execution counter, so the next run sees what a fresh kernel would show it.
"""

import os
import signal
import subprocess
from pathlib import Path

from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_core.utils import run_sync

from gnelib.reporting.lifecycle import kernel_lifeline
from gnelib.reporting.rundir import kernel_files

KERNEL_NAME = "python3"
STARTUP_TIMEOUT = 60
HEAVY_IMPORTS = (
    "numpy",
    "pandas",
    "scipy.stats",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "duckdb",
    "gnelib.warehouse",
    "gnelib.metrics",
    "gnelib.analysis.deep_dive",  # the package imports its modules on first use
    "gnelib.analysis.detection",
    "gnelib.viz",
)

_WARM_UP = """
def _gne_warm_up(modules):
    import importlib, os, sys, types, warnings
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import matplotlib, pandas
    state = types.ModuleType("_gne_fresh_state")
    state.rc = dict(matplotlib.rcParams)
    state.warning_filters = list(warnings.filters)
    state.cwd = os.getcwd()
    state.environ = dict(os.environ)
    sys.modules["_gne_fresh_state"] = state
_gne_warm_up(MODULES)
"""

_RESET = """
def _gne_reset():
    import os, sys, warnings
    import matplotlib, matplotlib.pyplot, pandas
    state = sys.modules["_gne_fresh_state"]
    matplotlib.pyplot.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(state.rc)
        pandas.reset_option("all")
    warnings.filters[:] = state.warning_filters
    os.chdir(state.cwd)
    os.environ.clear()
    os.environ.update(state.environ)
_gne_reset()
get_ipython().run_line_magic("reset", "-f")
__import__("gc").collect()
get_ipython().execution_count = 1
"""


class KernelFailure(RuntimeError):
    """The kernel could not be started, warmed up or reset."""


class Kernel:
    """One running `python3` kernel with an async client (as nbclient expects); `warm` kernels pre-import.

    nbclient must get an async client: with a blocking one it waits forever on a kernel that died.
    """

    def __init__(self, cwd: Path, warm: bool):
        self.cwd = cwd
        self.warm = warm
        self.manager: AsyncKernelManager | None = None
        self.client: AsyncKernelClient | None = None

    def start(self) -> "Kernel":
        """Start the kernel process and wait until it answers; tie its life to this process (it dies with it, see
        `lifecycle`); warm it up if `warm`. On Linux the kernel dies with the *thread* that started it: start and
        use a kernel from one long-lived thread (the pool workers use their main thread)."""
        self.manager = AsyncKernelManager(kernel_name=KERNEL_NAME, **kernel_files())  # see `rundir`
        run_sync(self.manager.start_kernel)(
            cwd=str(self.cwd),
            extra_arguments=["--HistoryManager.enabled=False"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = self.manager.client()
        self.client.start_channels()
        run_sync(self.client.wait_for_ready)(timeout=STARTUP_TIMEOUT)
        self.client.allow_stdin = False
        self._run_silently(kernel_lifeline(os.getpid()))
        if self.warm:
            self._run_silently(_WARM_UP.replace("MODULES", repr(HEAVY_IMPORTS)))
            self.reset()
        return self

    def reset(self) -> None:
        """Bring a warm kernel back to the state of a fresh one (see module docstring)."""
        self._run_silently(_RESET)

    def is_alive(self) -> bool:
        return self.manager is not None and run_sync(self.manager.is_alive)()

    def signal(self, number: int) -> None:
        """Send a signal to the kernel process (safe from any thread: no event loop involved)."""
        process = getattr(self.manager.provisioner, "process", None) if self.manager else None
        if process is not None and process.poll() is None:
            os.kill(process.pid, number)

    def interrupt(self) -> None:
        self.signal(signal.SIGINT)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def shutdown(self) -> None:
        """Stop the client channels and the kernel process."""
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.manager is not None:
            if self.manager.has_kernel:
                run_sync(self.manager.shutdown_kernel)(now=True)
            self.manager = None

    def _run_silently(self, code: str) -> None:
        assert self.client is not None
        reply = run_sync(self.client.execute_interactive)(
            code, silent=True, store_history=False, timeout=STARTUP_TIMEOUT
        )
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise KernelFailure(f"kernel set-up code failed: {content.get('ename')}: {content.get('evalue')}")


class KernelSource:
    """Hands out kernels for runs: one reused warm kernel per process, or a new kernel per run."""

    def __init__(self, isolation: str, cwd: Path | None = None):
        if isolation not in ("warm", "fresh"):
            raise ValueError(f"isolation must be 'warm' or 'fresh', not {isolation!r}")
        self.isolation = isolation
        self.cwd = cwd or Path(os.getcwd())
        self._kernel: Kernel | None = None

    def acquire(self) -> Kernel:
        """A live kernel ready for a run."""
        if self.isolation == "fresh":
            return Kernel(self.cwd, warm=False).start()
        if self._kernel is None or not self._kernel.is_alive():
            self.discard()
            self._kernel = Kernel(self.cwd, warm=True).start()
        return self._kernel

    def release(self, kernel: Kernel) -> None:
        """After a run: reset the warm kernel (replacing it if it cannot be reset), or stop a fresh one."""
        if self.isolation == "fresh":
            kernel.shutdown()
            return
        try:
            if not kernel.is_alive():
                raise KernelFailure("kernel died")
            kernel.reset()
        except Exception:
            self.discard()

    def discard(self) -> None:
        """Stop the current warm kernel (after a death, a timeout, or at process exit)."""
        if self._kernel is not None:
            self._kernel.shutdown()
            self._kernel = None
