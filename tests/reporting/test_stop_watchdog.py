"""A stop signal ends `gne run` even when the orderly stop never comes: DuckDB turns the `Stopped` raised inside a
query into `RuntimeError: Query interrupted`, which a broad `except Exception` (the aggregate pass treats any
failure as "read the warehouse directly") swallows and carries on. The watchdog of `stop_on_signals` then kills
the run's processes and exits 128 + the signal after its grace period."""

import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent("""
    import subprocess, sys, duckdb
    from gnelib.reporting.lifecycle import stop_on_signals
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with stop_on_signals(grace=2.0):
        print(child.pid, flush=True)
        while True:
            try:
                duckdb.sql("SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b").fetchall()
            except Exception:  # noqa: BLE001 — what a broad handler does
                pass
""")


def test_a_stop_signal_ends_a_run_whose_query_loop_swallows_the_stop_and_its_children():
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True)
    child = int(process.stdout.readline())
    time.sleep(1.0)  # inside the query now
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=30)
    waited = time.monotonic() - started
    assert code == 128 + signal.SIGTERM
    assert 1.5 < waited < 15, waited  # the grace period, not the query's hours
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
