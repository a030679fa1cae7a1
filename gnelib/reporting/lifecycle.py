"""Workers and kernels die with the `gne run` that started them.

- SIGTERM, SIGINT and SIGHUP to `gne run` raise `Stopped` in its main thread (`stop_on_signals`); the batch then
  kills its pool workers, waits for them and their kernels to exit (`stop_workers`) and only then lets go of the
  lock; `gne run` exits 128 + the signal number. Python runs a signal handler only between bytecodes, so a main
  thread inside a long warehouse query (the aggregate pass on a big warehouse) would not stop until the query
  ends: a watchdog thread, woken through `signal.set_wakeup_fd`, kills the run's processes and exits 128 + the
  signal number if the orderly stop has not finished `STOP_GRACE_SECONDS` after the signal. DuckDB looks for
  signals only between its tasks (on a large scan they can be a minute apart), so the watchdog first interrupts
  the process's DuckDB queries (`interrupt_queries`); DuckDB then raises its own error, and the `Stopped` may be
  lost — so code that carries on after an engine error calls `raise_if_stopped` first.
- SIGKILL cannot be caught: every worker asks Linux for SIGKILL when its parent dies (`die_with_parent`,
  prctl PR_SET_PDEATHSIG), and every kernel asks the same of its worker (`KERNEL_LIFELINE`). The lock, inherited
  by the forked workers, lasts until the last of them has exited (see `lock`).
- Workers ignore SIGINT: a Ctrl-C in a terminal reaches the whole foreground group, and the parent decides.
"""

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from gnelib.warehouse.connection import interrupt_queries

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
EXIT_WAIT_SECONDS = 10.0
STOP_GRACE_SECONDS = 2 * EXIT_WAIT_SECONDS

KERNEL_LIFELINE = """
def _gne_lifeline(parent):
    import ctypes, os, signal, sys
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
_gne_lifeline(PARENT)
del _gne_lifeline
"""


class Stopped(BaseException):  # noqa: N818 — like KeyboardInterrupt: not an Exception, so nothing swallows it
    """`gne run` received a stop signal; `exit_status` is 128 + its number."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_status = 128 + signum


def die_with_parent(parent: int, signum: int = signal.SIGKILL) -> bool:
    """Have Linux send `signum` to this process when its parent exits; if `parent` is already gone, die now.

    Returns False where the call does not exist (not Linux); the pool's shutdown on signals still applies there.
    """
    if not sys.platform.startswith("linux"):
        return False
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)
    return True


def kernel_lifeline(worker: int) -> str:
    """Code a kernel runs first (silently): die with SIGKILL when `worker`, its parent, exits."""
    return KERNEL_LIFELINE.replace("PARENT", str(int(worker)))


_received: list[int] = []
"""The stop signal `stop_on_signals` received (at most one), until its block ends."""


def raise_if_stopped() -> None:
    """Raise `Stopped` again if a stop signal has arrived: an engine that turned it into its own error (DuckDB:
    "Query interrupted") must not make the batch carry on as after an ordinary failure."""
    if _received:
        raise Stopped(_received[0])


@contextmanager
def stop_on_signals(grace: float = STOP_GRACE_SECONDS) -> Iterator[None]:
    """Within the block, SIGTERM/SIGINT/SIGHUP raise `Stopped` (once: later signals wait for the cleanup); if the
    block has not ended `grace` seconds after the signal, the process kills its descendants and exits.

    Signal handlers belong to the main thread: called from another thread, this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def handler(signum, frame):
        if not _received:
            _received.append(signum)
            raise Stopped(signum)

    previous = {number: signal.signal(number, handler) for number in STOP_SIGNALS}
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    previous_wakeup = signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
    done = threading.Event()
    threading.Thread(target=_watchdog, args=(reader, done, grace), name="gne-stop-watchdog", daemon=True).start()
    try:
        yield
    finally:
        done.set()
        _received.clear()
        signal.set_wakeup_fd(previous_wakeup)
        os.close(writer)  # wakes the watchdog, which closes `reader`
        for number, action in previous.items():
            signal.signal(number, action)


def _watchdog(reader: int, done: threading.Event, grace: float) -> None:
    """Wait for a stop signal's wake-up byte; then give the orderly stop `grace` seconds before a hard exit."""
    try:
        while not done.is_set():
            data = os.read(reader, 64)
            if not data:
                return
            stops = [number for number in data if number in {int(s) for s in STOP_SIGNALS}]
            if stops:
                interrupt_queries()  # the orderly stop must not wait for DuckDB to look at signals
            if stops and not done.wait(grace):
                for pid in descendants(os.getpid()):
                    _kill(pid)
                os._exit(128 + stops[0])
    finally:
        os.close(reader)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold stop signals back until the block ends (e.g. while the pool's internal locks are taken to submit jobs,
    which its shutdown needs); forked children start with them blocked and must call `accept_signals`."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def accept_signals() -> None:
    """Unblock the stop signals (in a worker forked inside `signals_deferred`)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def stop_workers(pool: ProcessPoolExecutor, timeout: float = EXIT_WAIT_SECONDS) -> None:
    """Kill the pool's workers (their kernels follow), and return once they and their kernels have exited."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # CPython's worker Process objects
    kernels = [pid for process in processes if process.pid for pid in descendants(process.pid)]
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout)
    wait_until_gone(kernels, timeout)
    manager = getattr(pool, "_executor_manager_thread", None)  # CPython's thread that owns the pool's pipes
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:  # else it may close its wake-up pipe while the interpreter's exit hook writes to it
        manager.join(timeout)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        parent = _parent_of(entry)
        if parent is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def is_running(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return _exists(pid) if not Path("/proc/self").exists() else False
    return state not in ("Z", "X")


def wait_until_gone(pids: list[int], timeout: float) -> bool:
    """Wait up to `timeout` seconds for `pids` to exit; True if they all did."""
    deadline = time.monotonic() + timeout
    while any(is_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _parent_of(entry: Path) -> int | None:
    try:
        return int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
