"""Every template notebooks/<name>.ipynb has its reviewed py:percent pair notebooks/<name>.py, with the same cells."""

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TEMPLATES = sorted(NOTEBOOKS.glob("*.ipynb"))
FIX = "run `make sync-notebooks` (jupytext --sync: the newer file wins) and commit both files"


def cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """What a pair must agree on: each cell's type, source and tags."""
    return [(cell.cell_type, cell.source, list(cell.metadata.get("tags", []))) for cell in notebook.cells]


def test_the_templates_are_paired_through_the_folder_config():
    config = (NOTEBOOKS / "jupytext.toml").read_text()
    assert 'formats = "ipynb,py:percent"' in config
    assert TEMPLATES, "no templates found"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.stem)
def test_template_and_its_py_pair_hold_the_same_cells(template):
    pair = template.with_suffix(".py")
    assert pair.is_file(), f"{template.name} has no pair notebooks/{pair.name}: {FIX}"
    notebook, script = nbformat.read(template, as_version=4), jupytext.read(pair)
    ours, theirs = cells(notebook), cells(script)
    for index, (left, right) in enumerate(zip(ours, theirs, strict=False)):
        assert left == right, f"{template.name} and {pair.name} differ at cell {index + 1}: {FIX}"
    assert len(ours) == len(theirs), f"{template.name} has {len(ours)} cells, {pair.name} {len(theirs)}: {FIX}"
    gne_metadata = notebook.metadata.get("gne", {}), script.metadata.get("gne", {})
    assert gne_metadata[0] == gne_metadata[1], f"{template.name} and {pair.name} declare different `gne` needs: {FIX}"


def test_a_changed_pair_is_caught(tmp_path):
    """The comparison above sees a one-word edit made to the .py only."""
    template = NOTEBOOKS / "weekly_scorecard.ipynb"
    script = jupytext.read(template.with_suffix(".py"))
    edited = script.cells[-1].source.replace("display", "print", 1)
    assert edited != script.cells[-1].source
    script.cells[-1].source = edited
    jupytext.write(script, tmp_path / "edited.py", fmt="py:percent")
    assert cells(jupytext.read(tmp_path / "edited.py")) != cells(nbformat.read(template, as_version=4))
