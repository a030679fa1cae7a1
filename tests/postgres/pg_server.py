"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, initdb into a temporary directory, started on
a free local port (and a socket in that directory), stopped and removed after.

PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` user the Debian package
creates and every server command runs through `runuser -u postgres`.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL_HINT = ("install Debian's PostgreSQL server: `make test` does it (apt-get install postgresql), or run "
                "`apt-get install postgresql` yourself")
SERVER_USER = "postgres"  # the account Debian's postgresql package creates
DB_USER = "gne"
# A throwaway cluster: no durability; memory for the metric queries' hash aggregates (the default 4MB work_mem
# sorts on disk and doubles their time); no JIT (compiling costs more than it saves on these sizes).
SETTINGS = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c work_mem=256MB -c jit=off"


def server_bin() -> Path:
    """The directory holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise RuntimeError(f"No PostgreSQL server binaries (pg_ctl, initdb) found: {INSTALL_HINT}.")
    return Path(versions[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def cluster(database: str = "gne") -> Iterator[str]:
    """Start a fresh cluster; yield the URL of database `database` in it (user `gne`, trust auth on 127.0.0.1)."""
    binaries = server_bin()
    root = Path(tempfile.mkdtemp(prefix="gne-pg-"))  # not under pytest's tmp dir: the postgres user must reach it
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(root, user=SERVER_USER)
    data, port = root / "data", free_port()

    def run(*command: str) -> None:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if as_root else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60)
        if done.returncode:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({INSTALL_HINT} if it is missing):\n"
                               f"{done.stdout}{done.stderr}{log}")

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", DB_USER, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} {SETTINGS}"
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start")
        try:
            run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", DB_USER, database)
            yield f"postgresql://{DB_USER}@127.0.0.1:{port}/{database}"
        finally:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
