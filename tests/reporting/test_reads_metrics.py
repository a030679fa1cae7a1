"""Which templates can read the batch aggregate store: judged from their imports (`reads_metrics`)."""

from pathlib import Path

import nbformat
import pytest

from gnelib.reporting.requirements import reads_metrics

REPO = Path(__file__).resolve().parents[2]


def template(tmp_path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    path = tmp_path / "template.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("source", [
    "from gnelib import metrics",
    "import gnelib",
    "from gnelib.views import scorecard",
    "import pandas as pd\nfrom gnelib.notebook import start",  # the page header runs the data-quality metrics
    "%matplotlib inline\nfrom gnelib.analysis.deep_dive import deep_dive",
    "x = (",  # cannot tell: assume it reads
])
def test_a_template_that_may_compute_metrics_reads_the_store(tmp_path, source):
    assert reads_metrics(template(tmp_path, "import pandas", source))


@pytest.mark.parametrize("source", [
    "import pandas as pd\nimport seaborn",
    "from gnelib.warehouse import connect\nfrom gnelib.periods import week_range",  # its own SQL
    "from gnelib import viz\n!ls\n%time 1 + 1",
    "import gnelibx",
])
def test_a_template_that_computes_no_metric_does_not(tmp_path, source):
    assert not reads_metrics(template(tmp_path, source))


def test_every_shipped_template_reads_the_store():
    templates = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert templates and all(reads_metrics(path) for path in templates)
