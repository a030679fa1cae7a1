"""`stop_workers` returns only once the pool's own manager thread has finished: at interpreter exit CPython's
hook writes to that thread's wake-up pipe, and a thread still closing the pipe then made `gne run` print a
traceback ("Bad file descriptor") after a clean "disk full" message (seen in CI)."""

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, process

from gnelib.reporting.lifecycle import is_running, stop_workers


def echo(value: int) -> int:
    return value


def test_stop_workers_leaves_no_worker_and_no_pool_thread_running(monkeypatch):
    release = process._ExecutorManagerThread.join_executor_internals

    def slow_release(self):  # as on a loaded machine: the manager thread is slow to close its pipes
        time.sleep(0.5)
        release(self)

    monkeypatch.setattr(process._ExecutorManagerThread, "join_executor_internals", slow_release)
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    assert [future.result() for future in [pool.submit(echo, n) for n in range(4)]] == [0, 1, 2, 3]
    workers = [worker.pid for worker in pool._processes.values()]
    manager = pool._executor_manager_thread
    stop_workers(pool)
    assert not manager.is_alive()
    assert manager not in threading.enumerate()
    assert not any(is_running(pid) for pid in workers)
