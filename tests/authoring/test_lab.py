"""`make lab`: JupyterLab on a free local port; through its REST API a template opens with its parameters cell
tagged (as .ipynb and as its .py pair), a python3 kernel starts with the project's Python and warehouse, and the
template's cells execute in it."""

import asyncio
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from gnelib.metrics.catalog import PACKAGED_CATALOG

ROOT = Path(__file__).resolve().parents[2]
TOKEN = uuid.uuid4().hex
TEMPLATE = "notebooks/seller_risk"
PARAMETERS = 'market = "VN"\nweek = "2026-W47"\n'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(small_warehouse):
    """`make lab` (the venv taken as installed) on 127.0.0.1:<free port>; yields (base URL, server log file)."""
    port = free_port()
    arguments = f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --IdentityProvider.token={TOKEN}"
    log = ROOT / "build" / f"lab-test-{port}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-o",
                ".venv/.installed",
                "lab",
                f"WAREHOUSE={small_warehouse}",
                f"LAB_ARGS={arguments}",
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get(base, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"JupyterLab did not answer: {log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.unlink(missing_ok=True)


def get(base: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else {}


def test_templates_open_with_their_parameters_cell_tagged(lab):
    for suffix in (".ipynb", ".py"):
        model = get(lab, f"/api/contents/{TEMPLATE}{suffix}?type=notebook&content=1")
        cells = model["content"]["cells"]
        tagged = [cell for cell in cells if "parameters" in cell["metadata"].get("tags", [])]
        assert len(tagged) == 1 and "market: str" in "".join(tagged[0]["source"]), suffix


def test_a_kernel_starts_with_the_project_environment_and_runs_a_template(lab, small_warehouse):
    kernel = get(lab, "/api/kernels", "POST", {"name": "python3"})
    try:
        cells = get(lab, f"/api/contents/{TEMPLATE}.ipynb?type=notebook&content=1")["content"]["cells"]
        code = [
            PARAMETERS if "parameters" in cell["metadata"].get("tags", []) else "".join(cell["source"])
            for cell in cells
            if cell["cell_type"] == "code"
        ]
        probe = (
            "import os, sys; from gnelib.metrics.catalog import catalog_location; "
            "print(sys.executable, os.environ['GNE_WAREHOUSE'], catalog_location())"
        )
        # in a thread of its own: an earlier test in the session may leave an event loop running in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            outputs = pool.submit(asyncio.run, execute(lab, kernel["id"], [probe, *code])).result()
    finally:
        get(lab, f"/api/kernels/{kernel['id']}", "DELETE")
    executable, warehouse, catalog = outputs[0]["text"].split()
    assert (Path(executable).parent, warehouse) == (ROOT / ".venv/bin", str(small_warehouse))
    assert Path(catalog) == PACKAGED_CATALOG  # gne.yaml's `catalog: packaged`
    assert all(output["status"] == "ok" for output in outputs), [o for o in outputs if o["status"] != "ok"][:1]
    shown = " ".join(output["text"] for output in outputs)
    assert "Data quality:" in shown and "VN" in shown


async def execute(base: str, kernel: str, sources: list[str]) -> list[dict]:
    """Run each source in the kernel over its websocket; per source its reply status and the text it displayed."""
    url = base.replace("http", "ws", 1) + f"/api/kernels/{kernel}/channels?token={TOKEN}"
    connection = await websocket_connect(url)
    session, results = uuid.uuid4().hex, []
    try:
        for source in sources:
            msg_id = uuid.uuid4().hex
            await connection.write_message(
                json.dumps(
                    {
                        "header": {
                            "msg_id": msg_id,
                            "username": "test",
                            "session": session,
                            "msg_type": "execute_request",
                            "version": "5.3",
                        },
                        "parent_header": {},
                        "metadata": {},
                        "channel": "shell",
                        "content": {
                            "code": source,
                            "silent": False,
                            "store_history": True,
                            "user_expressions": {},
                            "allow_stdin": False,
                            "stop_on_error": True,
                        },
                    }
                )
            )
            text, status, idle = [], None, False
            while status is None or not idle:  # the reply (shell) and the last output (iopub) come in either order
                message = json.loads(await asyncio.wait_for(connection.read_message(), timeout=180))
                if message["parent_header"].get("msg_id") != msg_id:
                    continue
                content, kind = message["content"], message["msg_type"]
                if kind == "stream":
                    text.append(content["text"])
                elif kind in ("display_data", "execute_result"):
                    text.append(content["data"].get("text/html") or content["data"].get("text/plain", ""))
                elif kind == "status":
                    idle = content["execution_state"] == "idle"
                elif kind == "execute_reply":
                    ok = content["status"] == "ok"
                    status = "ok" if ok else f"{content.get('ename')}: {content.get('evalue')}"
            results.append({"status": status, "text": "".join(text)})
    finally:
        connection.close()
    return results


if sys.platform != "linux":  # make lab and the kernels' environment are set up for Linux machines (CI)
    pytestmark = pytest.mark.skip("Linux only")
