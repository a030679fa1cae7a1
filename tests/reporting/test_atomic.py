"""Nothing half-written: a crash while writing, or a killed `gne run`, leaves the previous report intact."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gnelib.atomic import (
    DiskFull,
    IncompleteWrite,
    atomic_path,
    atomic_write_text,
    commit,
    temporary_beside,
)
from gnelib.reporting.lifecycle import descendants


def test_a_writer_that_fails_midway_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "report.html"
    atomic_write_text(target, "<p>previous good report</p>")
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("<p>half of the new rep")
        raise RuntimeError("renderer crashed after partial work")
    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.html"]


def test_a_process_killed_midway_leaves_the_target_untouched(tmp_path):
    target = tmp_path / "report.html"
    atomic_write_text(target, "<p>previous good report</p>")
    before = target.read_bytes()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from gnelib.atomic import atomic_path
        with atomic_path(Path({str(target)!r})) as temporary:
            with open(temporary, "w") as handle:
                handle.write("<p>half of the new rep")
                handle.flush()
                os._exit(9)  # dies like a SIGKILL: no cleanup, no rename
        """
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    assert target.read_bytes() == before
    leftovers = [path.name for path in tmp_path.iterdir() if path.name != "report.html"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".report.html.")  # hidden, never linked


def test_killing_gne_run_mid_run_keeps_the_previous_report(project, gne, small_warehouse):
    assert gne("run", "notebooks/slow.ipynb", "-p", "market", "US", "-p", "week", "latest").exit_code == 0
    report = next((project / "reports").rglob("slow.html"))
    before = report.read_bytes()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gnelib.cli",
            "run",
            "notebooks/slow.ipynb",
            "-p",
            "market",
            "US",
            "-p",
            "seconds",
            "60",
            "--force",
            "--workers",
            "1",
        ],
        cwd=project,
        env={**os.environ, "GNE_WAREHOUSE": str(small_warehouse)},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not _kernels_below(process.pid) and time.monotonic() < deadline:  # the slot's log is written at the end
            time.sleep(0.2)
        assert _kernels_below(process.pid), "no kernel started within 60 s"
        time.sleep(4)  # the notebook is now sleeping in its kernel
        assert process.poll() is None
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert report.read_bytes() == before
    visible = sorted(path.name for path in report.parent.iterdir() if not path.name.startswith("."))
    assert visible == ["slow.html", "slow.ipynb", "slow.log"]


@pytest.mark.parametrize(
    ("name", "truncated"),
    [("runs.json", '{"runs": [{"slot": "2026-W47/US/x"'), ("x.ipynb", '{"cells": ['), ("x.html", "")],
)
def test_an_incomplete_file_is_never_renamed_into_place(tmp_path, name, truncated):
    target = tmp_path / name
    atomic_write_text(target, '{"runs": []}' if name != "x.html" else "<p>previous</p>")
    before = target.read_bytes()
    temporary = temporary_beside(target)
    temporary.write_text(truncated)
    with pytest.raises(IncompleteWrite, match="previous file is kept"):
        commit(temporary, target)
    assert target.read_bytes() == before


def test_a_full_disk_is_reported_as_disk_full_naming_the_file(tmp_path):
    target = tmp_path / "index.html"
    atomic_write_text(target, "<p>previous</p>")
    with pytest.raises(DiskFull, match=r"disk full: could not write index\.html .*previous file is kept"):
        with atomic_path(target), open("/dev/full", "wb", buffering=0) as full:  # the kernel answers ENOSPC
            full.write(b"<p>new</p>")
    assert target.read_text() == "<p>previous</p>"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.html"]


def _kernels_below(pid: int) -> list[int]:
    """The ipykernel processes among `pid`'s descendants."""
    found = []
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel" in command:
            found.append(child)
    return found
