"""The aggregate store is keyed by the code it comes from: a view edit keeps it, a metric or scan edit does not."""

import shutil
from pathlib import Path

import pytest

import gnelib
from gnelib.code_version import code_hash
from gnelib.reporting.aggregates import STORE_CODE


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    """A copy of gnelib's source to edit."""
    copy = tmp_path / "gnelib"
    shutil.copytree(Path(gnelib.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _edit(path: Path) -> None:
    path.write_text(path.read_text() + "\n# edited\n")
    code_hash.cache_clear()  # computed once per process: the code does not change under a running batch


def test_editing_a_view_keeps_the_store_key_but_changes_the_code_version(package: Path):
    store, whole = code_hash(*STORE_CODE, root=package), code_hash(root=package)
    _edit(package / "views" / "scorecard.py")
    assert code_hash(*STORE_CODE, root=package) == store
    assert code_hash(root=package) != whole  # reports still re-run (their skip fingerprint)


@pytest.mark.parametrize("edited", [
    "metrics/compiler.py",  # the SQL of every frame
    "metrics/catalog/common.yaml",  # a view the catalog's metrics read
    "analysis/baseline.py",  # the scan's model, imported by detection
    "analysis/root_cause.py",  # imported by detection at module level
    "goals/progress.py",
    "periods.py",  # week arithmetic, imported on the way
])
def test_editing_what_computes_the_store_changes_its_key(package: Path, edited: str):
    before = code_hash(*STORE_CODE, root=package)
    _edit(package / edited)
    assert code_hash(*STORE_CODE, root=package) != before


def test_an_import_inside_a_function_counts(package: Path):
    helper = package / "analysis" / "lazy_helper.py"
    helper.write_text("VALUE = 1\n")
    detection = package / "analysis" / "detection.py"
    detection.write_text(detection.read_text() + "\n\ndef _uses_helper():\n"
                         "    from gnelib.analysis.lazy_helper import VALUE\n    return VALUE\n")
    before = code_hash(*STORE_CODE, root=package)
    _edit(helper)
    assert code_hash(*STORE_CODE, root=package) != before
