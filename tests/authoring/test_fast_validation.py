"""Bad input is rejected before the executor is imported; templates' parameters are read as papermill reads them."""

import json
import subprocess
import sys
from pathlib import Path

import papermill
import pytest

from gnelib.reporting.errors import ParameterError
from gnelib.reporting.params import declared_parameters

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "tests").glob("*/fixtures/*.ipynb"))
HEAVY = ("papermill", "nbclient", "nbconvert", "nbformat", "scipy", "matplotlib", "jupyter_client")
REJECT = f"""
import sys
from gnelib.cli import app
try:
    app(["run", "notebooks/metric_deep_dive.ipynb", "-p", "market", "ZZ"], prog_name="gne")
except SystemExit as stop:
    print(stop.code, sorted(name for name in {HEAVY!r} if name in sys.modules))
"""


def test_a_bad_market_is_rejected_without_importing_the_executor(small_warehouse):
    done = subprocess.run(
        [sys.executable, "-c", REJECT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GNE_WAREHOUSE": str(small_warehouse), "PATH": "/usr/bin:/bin"},
    )
    assert "Parameter 'market' = 'ZZ' is not valid" in done.stderr
    assert done.stdout.split(maxsplit=1) == ["2", "[]\n"], done.stdout


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_declared_parameters_equal_papermills_inspection(template):
    inspected = papermill.inspect_notebook(str(template))
    declared = declared_parameters(template)
    assert list(declared) == list(inspected)
    for name, info in inspected.items():
        assert declared[name].help == info["help"]
        assert repr(declared[name].default) in (info["default"], repr(eval(info["default"])))  # noqa: S307
        if info["inferred_type_name"] not in ("None", ""):
            assert declared[name].type_name == info["inferred_type_name"].split("[")[0]


def test_a_parameters_cell_that_is_not_python_names_the_line(tmp_path):
    notebook = json.loads((ROOT / "notebooks/weekly_scorecard.ipynb").read_text())
    cell = next(cell for cell in notebook["cells"] if "parameters" in cell["metadata"].get("tags", []))
    cell["source"] = 'market: str = "ID"\nweek: str = latest"\n'
    broken = tmp_path / "broken.ipynb"
    broken.write_text(json.dumps(notebook))
    with pytest.raises(ParameterError, match=r"broken.ipynb: its parameters cell is not valid Python \(line 2"):
        declared_parameters(broken)
