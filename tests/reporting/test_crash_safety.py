"""Faults injected for real into a running `gne run` (issue 12): the parent alone killed with SIGKILL, stopped
with SIGTERM or SIGINT, and a full filesystem. No mocks: real processes, real signals, a real tmpfs."""

import errno
import fcntl
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gnelib.atomic import TEMPORARY_NAME
from gnelib.reporting.errors import LockBusy
from gnelib.reporting.lifecycle import descendants, is_running
from gnelib.reporting.lock import LOCK_NAME, run_lock

FIXTURES = Path(__file__).parent / "fixtures"
FILE_SIZE_LIMIT = 64 * 1024
SLOW_PLAN = """
markets: [US, GB]
weeks: latest
templates:
  slow:
    parameters: {seconds: 120}
"""


@pytest.fixture(scope="session")
def seeded_reports(tmp_path_factory, small_warehouse) -> Path:
    """A reports directory after one real `gne run` of the slow fixture for US (a good report and the batch
    aggregate store), copied by the tests below so their runs skip the store's computation."""
    root = tmp_path_factory.mktemp("seeded")
    shutil.copytree(FIXTURES, root / "notebooks")
    result = gne_process(root, small_warehouse, "notebooks/slow.ipynb", "-p", "market", "US").communicate()
    assert (root / "reports" / "runs.json").is_file(), result
    return root / "reports"


@pytest.fixture
def project(tmp_path, seeded_reports) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    shutil.copytree(seeded_reports, tmp_path / "reports", symlinks=True)
    (tmp_path / "slow.yaml").write_text(SLOW_PLAN)
    return tmp_path


def gne_process(cwd: Path, warehouse: Path, *args: str, **popen) -> subprocess.Popen:
    """The real `gne run` as a child process of its own (as cron or Airflow starts it)."""
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen(
        [sys.executable, "-m", "gnelib.cli", "run", *args, "--reports-dir", "reports"],
        cwd=cwd, env={**os.environ, "GNE_WAREHOUSE": str(warehouse)}, text=True, **popen,
    )


@pytest.fixture
def started():
    """Processes a test started; any still running at the end are killed (a failed test leaves no orphans)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)


def kernels_of(pid: int) -> list[int]:
    return [child for child in descendants(pid) if b"ipykernel" in Path(f"/proc/{child}/cmdline").read_bytes()]


def running_batch(project: Path, warehouse: Path, started: list[int]) -> tuple[subprocess.Popen, list[int], list[int]]:
    """Start the two-report slow plan on two workers; return once both kernels are executing the notebook. Its
    output goes to files: a surviving worker must not keep a pipe open."""
    with open(project / "gne-run.out", "w") as output:
        process = gne_process(project, warehouse, "slow.yaml", "--force", "--workers", "2", "--isolation", "fresh",
                              stdout=output, stderr=output)
    started.append(process.pid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        logs = list((project / "reports").glob("*/*/.slow.log.*"))
        if len(kernels_of(process.pid)) == 2 and sum("'seconds': 120" in log.read_text() for log in logs) == 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, output_of(project)
    time.sleep(1.0)  # both kernels are now inside time.sleep(120)
    kernels = kernels_of(process.pid)
    workers = [pid for pid in descendants(process.pid) if pid not in kernels]
    started.extend(workers + kernels)
    assert len(kernels) == 2 and len(workers) == 2, (workers, kernels)
    return process, workers, kernels


def kernel_folder(process: subprocess.Popen) -> Path:
    """The run's private folder of kernel connection files; checks it is private and is where its kernels' are."""
    folders = list(Path(tempfile.gettempdir()).glob(f"gne-run-{process.pid}-*"))
    assert len(folders) == 1, folders
    assert stat.S_IMODE(folders[0].stat().st_mode) & 0o777 == 0o700  # Jupyter adds the sticky bit
    connections = sorted(folders[0].glob("kernel-*.json"))
    assert len(connections) == 2 and all(json.loads(path.read_text())["transport"] == "ipc" for path in connections)
    return folders[0]


def output_of(project: Path) -> str:
    return (project / "gne-run.out").read_text()


def lock_is_free(reports: Path) -> bool:
    """Try the flock a new `gne run` takes (without keeping it)."""
    descriptor = os.open(reports / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


def test_sigkill_of_the_parent_alone_takes_workers_and_kernels_with_it(project, small_warehouse, started):
    process, workers, kernels = running_batch(project, small_warehouse, started)
    reports = project / "reports"
    folder = kernel_folder(process)
    assert all(str(folder) in Path(f"/proc/{pid}/cmdline").read_text() for pid in kernels)  # `-f <its file>`
    with pytest.raises(LockBusy):  # while the batch runs, a new run cannot start
        with run_lock(reports, "probe"):
            pass
    manifest = (reports / "runs.json").read_bytes()
    process.send_signal(signal.SIGKILL)  # only the parent: its workers and kernels are not signalled
    killed = time.monotonic()
    process.wait(timeout=10)
    free_at, alive_when_free = None, None
    while time.monotonic() - killed < 5 and (free_at is None or any(map(is_running, workers + kernels))):
        if free_at is None and lock_is_free(reports):
            free_at, alive_when_free = time.monotonic(), [pid for pid in workers if is_running(pid)]
        time.sleep(0.01)
    assert free_at is not None, "the lock was still held 5 s after the kill"
    assert alive_when_free == [], f"the lock was free while workers {alive_when_free} were alive"
    assert [pid for pid in workers + kernels if is_running(pid)] == [], "workers or kernels outlived the parent"
    with run_lock(reports, "next run"):  # a new run takes the lock now
        pass
    assert (reports / "runs.json").read_bytes() == manifest  # nothing wrote after the parent died
    assert folder.exists() and [path for path in reports.rglob("*") if TEMPORARY_NAME.match(path.name)]
    # the next run (of the seeded, unchanged report: nothing to execute) sweeps what the killed one left
    after = gne_process(project, small_warehouse, "notebooks/slow.ipynb", "-p", "market", "US")
    _, stderr = after.communicate(timeout=120)
    assert after.returncode == 0, stderr
    assert "cleaned up after an interrupted run" in stderr and not folder.exists()
    assert [path for path in reports.rglob("*") if TEMPORARY_NAME.match(path.name)] == []


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_stops_workers_and_kernels_before_the_lock_is_released(project, small_warehouse, signum,
                                                                            status, started):
    process, workers, kernels = running_batch(project, small_warehouse, started)
    folder = kernel_folder(process)
    process.send_signal(signum)  # the parent alone, as a scheduler's timeout does
    process.wait(timeout=30)
    stderr = output_of(project)
    survivors = [pid for pid in workers + kernels if is_running(pid)]  # checked the moment the parent is gone
    assert process.returncode == status, stderr
    assert survivors == [], "the parent exited before its workers and kernels"
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    assert lock_is_free(project / "reports")
    assert not (project / "reports" / ".gne-run.lock.json").exists()
    assert not folder.exists()  # the kernels' connection files went with the run


def mount_small_filesystem(where: Path) -> bool:
    """A 24 MB tmpfs at `where` (needs root, as `make test` has); False where mounting is not allowed."""
    where.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(where)], capture_output=True)
    return result.returncode == 0


def fill(disk: Path) -> Path:
    """Write a filler file until the filesystem refuses every byte (ENOSPC): the disk is now full."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    finally:
        os.close(descriptor)
    return filler


def snapshot(reports: Path) -> dict[str, bytes]:
    return {str(path.relative_to(reports)): path.read_bytes() for path in reports.rglob("*")
            if path.is_file() and ".aggregates" not in path.parts}


def test_a_full_disk_keeps_every_previous_file_and_says_disk_full_once(tmp_path, seeded_reports, small_warehouse):
    """A real full filesystem: a 24 MB tmpfs mounted by the test, filled with a filler file before the run. Where
    mounting is not allowed (not root), the run's own process gets RLIMIT_FSIZE instead (`file_size_limit_run`):
    its writes then fail with EFBIG, as a full disk fails them with ENOSPC."""
    disk = tmp_path / "disk"
    if not mount_small_filesystem(disk):
        file_size_limit_run(tmp_path, seeded_reports, small_warehouse)
        return
    try:
        project = disk / "project"
        shutil.copytree(FIXTURES, project / "notebooks")
        shutil.copytree(seeded_reports, project / "reports", symlinks=True)
        before = snapshot(project / "reports")
        fill(disk)
        full = gne_process(project, small_warehouse, "notebooks/slow.ipynb", "-p", "market", "US", "--force")
        _, stderr = full.communicate(timeout=300)
        assert full.returncode == 1, stderr
        assert stderr.lower().count("disk full") == 1, stderr
        assert "Traceback" not in stderr and "Logging error" not in stderr, stderr
        # notebook, log, HTML, runs.json, index: all the previous bytes, and no temporary file left (hidden included)
        assert snapshot(project / "reports") == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def limit_file_size() -> None:
    """In the child: files may not grow beyond 64 KiB (write fails with EFBIG instead of killing the process)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def file_size_limit_run(tmp_path: Path, seeded_reports: Path, small_warehouse: Path) -> None:
    """RLIMIT_FSIZE on the real `gne run` process: the report page (> 64 KiB) cannot be written; the smaller
    files can. The previous report stays, every file is complete, the console says "disk full" once."""
    project = tmp_path / "limited"
    shutil.copytree(FIXTURES, project / "notebooks")
    shutil.copytree(seeded_reports, project / "reports", symlinks=True)
    report = next((project / "reports").glob("*/US/slow.html"))
    before = report.read_bytes()
    assert len(before) > FILE_SIZE_LIMIT
    limited = gne_process(project, small_warehouse, "notebooks/slow.ipynb", "-p", "market", "US", "--force",
                          preexec_fn=limit_file_size)
    stdout, stderr = limited.communicate(timeout=300)
    assert limited.returncode == 1, stderr
    assert (stdout + stderr).lower().count("disk full") == 1, stdout + stderr
    assert "Traceback" not in stdout + stderr and "Logging error" not in stderr
    assert report.read_bytes() == before
    for path in (project / "reports").rglob("*.json"):
        json.loads(path.read_text())
    record = json.loads((project / "reports" / "runs.json").read_text())["runs"][0]
    assert record["status"] == "stale-previous-kept" and record["html"] and record["error"]["kind"] == "disk-full"
    assert not [path for path in report.parent.iterdir() if ".tmp" in path.name]


ENGINE_ERROR_CARRIES_ON = """
import sys
from pathlib import Path
import duckdb
from gnelib.reporting.lifecycle import Stopped, raise_if_stopped, stop_on_signals
from gnelib.warehouse.connection import DuckDBConnection
duckdb.connect(sys.argv[1]).close()
conn = DuckDBConnection(Path(sys.argv[1]))
try:
    with stop_on_signals(grace=120):
        print("ready", flush=True)
        try:  # 10^10 rows grouped: minutes of work, in tasks DuckDB does not break off to look at signals
            conn.sql("SELECT x % 1000 AS k, count(*) FROM range(10000000000) t(x) GROUP BY k")
        except Exception as error:  # as the store fill does: an engine error is not fatal
            print("engine error:", error, flush=True)
            raise_if_stopped()
        print("carried on", flush=True)
except Stopped as stopped:
    sys.exit(stopped.exit_status)
"""


def test_a_stop_signal_stops_a_long_warehouse_query_at_once_and_the_run_with_it(tmp_path):
    # Python runs the stop handler only when DuckDB looks for signals, between its tasks: on this grouped scan
    # that was more than a minute after SIGTERM (on a filter scan, 1 time in 3). The stop watchdog interrupts
    # the process's DuckDB queries first; DuckDB then raises its own error, and code that carries on after an
    # engine error (the store fill, the flagged scan, the digest) asks `raise_if_stopped` before it does.
    # (A process of its own, as `gne run` is.)
    process = subprocess.Popen([sys.executable, "-c", ENGINE_ERROR_CARRIES_ON, str(tmp_path / "empty.duckdb")],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, output
    assert "carried on" not in output  # whether DuckDB's error or `Stopped` came out of the query first
    assert time.monotonic() - signalled < 10
