"""Execute report templates the way `gne run` does (papermill in warm kernels, gnelib.reporting.execute), shared
out over two kernels at once (the CI machine has two cores; a warm kernel imports the heavy modules once), and read
what the executed notebooks show.

The two warm kernels are kept for the whole test session, so the test modules that execute templates share them
instead of each starting its own pair (a warm start costs seconds of CPU). Between runs a warm kernel is reset to
what a fresh one shows, as in `gne run`. A kernel inherits its environment when it starts, so a set of kernels serves
one warehouse, working directory and set of GNE_* variables (a module that sets another, like the goals test, gets a
set of its own). A kernel dies with the thread that started it: each kernel lives in a one-thread executor of its own,
and `discard_kernels()` (tests/views/conftest.py, at the end of the session) stops them."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gnelib.reporting.execute import Execution, execute_run
from gnelib.reporting.kernel_pool import KernelSource
from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

KERNELS = 2
RUN_TIMEOUT = 120

_KernelSet = list[tuple[ThreadPoolExecutor, KernelSource]]
_KERNEL_SETS: dict[tuple, _KernelSet] = {}


def _kernel_set(warehouse: Path) -> _KernelSet:
    """The session's warm kernels for `warehouse`, this working directory and these GNE_* variables (started on
    first use, by the thread that will use them)."""
    cwd = Path(os.getcwd())
    gne_environment = tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("GNE_")))
    key = (str(warehouse), str(cwd), gne_environment)
    if key not in _KERNEL_SETS:
        _KERNEL_SETS[key] = [
            (ThreadPoolExecutor(1, thread_name_prefix=f"warm-kernel-{number}"), KernelSource("warm", cwd))
            for number in range(KERNELS)
        ]
    return _KERNEL_SETS[key]


def execute_warm(runs: dict[str, tuple[Path, dict]], warehouse: Path, out: Path) -> dict[str, Execution]:
    """Each run ({name: (template, parameters)}) executed on `warehouse`, its notebook's temporary copy in `out`;
    the runs are split over the session's `KERNELS` warm kernels, each used by its own thread."""
    names = list(runs)

    def run_share(source: KernelSource, share: list[str]) -> dict[str, Execution]:
        return {name: execute_run(*runs[name], out / f"{name}.ipynb", source, RUN_TIMEOUT) for name in share}

    results: dict[str, Execution] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WAREHOUSE_ENV_VAR, str(warehouse))  # kernels inherit it when they start
        kernels = _kernel_set(warehouse)
        shares = [names[number::KERNELS] for number in range(KERNELS)]
        futures = [
            executor.submit(run_share, source, share)
            for (executor, source), share in zip(kernels, shares, strict=True)
        ]
        for future in futures:
            results.update(future.result())
    return results


def discard_kernels() -> None:
    """Stop every warm kernel of the session, each from the thread that started it."""
    for kernels in _KERNEL_SETS.values():
        for executor, source in kernels:
            executor.submit(source.discard).result()
            executor.shutdown()
    _KERNEL_SETS.clear()


def outputs(notebook) -> list[dict]:
    """Every output of the notebook's code cells."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def html_of(notebook) -> str:
    """The notebook's HTML outputs, joined."""
    return "".join(output.get("data", {}).get("text/html", "") for output in outputs(notebook))
