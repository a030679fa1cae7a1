"""Execute report templates the way `gne run` does (papermill in warm kernels, gnelib.reporting.execute), shared
out over two kernels at once (the CI machine has two cores; a warm kernel imports the heavy modules once), and read
what the executed notebooks show."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gnelib.reporting.execute import Execution, execute_run
from gnelib.reporting.kernel_pool import KernelSource
from gnelib.warehouse.connection import WAREHOUSE_ENV_VAR

KERNELS = 2
RUN_TIMEOUT = 120


def execute_warm(runs: dict[str, tuple[Path, dict]], warehouse: Path, out: Path) -> dict[str, Execution]:
    """Each run ({name: (template, parameters)}) executed on `warehouse`, its notebook's temporary copy in `out`;
    the runs are split over `KERNELS` warm kernels, one thread each."""
    names = list(runs)

    def run_share(share: list[str]) -> dict[str, Execution]:
        source = KernelSource("warm")
        try:
            return {name: execute_run(*runs[name], out / f"{name}.ipynb", source, RUN_TIMEOUT) for name in share}
        finally:
            source.discard()

    results: dict[str, Execution] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WAREHOUSE_ENV_VAR, str(warehouse))  # kernels inherit it when they start
        with ThreadPoolExecutor(KERNELS) as pool:
            for part in pool.map(run_share, [names[i::KERNELS] for i in range(KERNELS)]):
                results.update(part)
    return results


def outputs(notebook) -> list[dict]:
    """Every output of the notebook's code cells."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def html_of(notebook) -> str:
    """The notebook's HTML outputs, joined."""
    return "".join(output.get("data", {}).get("text/html", "") for output in outputs(notebook))
