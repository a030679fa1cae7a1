"""A private directory per `gne run` for its kernels' connection files and sockets.

A kernel's connection file holds the HMAC key that signs every message to it. `gne run` creates
`<system temp>/gne-run-<pid>-<random>` (mode 0700, this user only), points its workers at it (`KERNEL_DIR_ENV`),
and removes it when it exits. The kernels talk over IPC (Unix sockets in that directory, not TCP ports any local
user could reach): papermill's engine here uses the kernel manager we start, so the transport is ours to choose.
A killed run cannot remove its directory; the next `gne run` removes every such directory whose `gne run` process
is gone (`sweep`).
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gnelib.reporting.lifecycle import is_running

KERNEL_DIR_ENV = "GNE_KERNEL_DIR"
PREFIX = "gne-run-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-")
MAX_SOCKET_DIR = 60  # a Unix socket path must stay under 108 bytes: dir + "/kernel-<12 hex>-ipc-<n>"


@contextmanager
def private_run_directory() -> Iterator[Path]:
    """Create this run's private directory (mode 0700), yield it, and remove it at the end."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep() -> list[Path]:
    """Remove the private directories of `gne run` processes that are gone (killed); returns them."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        found = _NAME.match(folder.name)
        try:
            mine = folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if found and mine and not is_running(int(found.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def kernel_files() -> dict[str, str]:
    """Connection-file settings for a new kernel manager: in the private directory with IPC when this process was
    given one (a `gne run` worker); empty (Jupyter's defaults) otherwise."""
    folder = os.environ.get(KERNEL_DIR_ENV)
    if not folder:
        return {}
    connection = Path(folder) / f"kernel-{os.urandom(6).hex()}.json"
    transport = "ipc" if len(folder) <= MAX_SOCKET_DIR else "tcp"
    return {"connection_file": str(connection), "transport": transport}
