"""`gne new template NAME [--from TEMPLATE]`: write a thin template (or a copy of one), pair it with its
py:percent script, add it to a run plan and give it nbval reference parameters."""

import ast
import contextlib
import io
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat

from gnelib.authoring.edits import AuthoringError, insert_lines

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
REFERENCES_NAME = "REFERENCE_PARAMETERS"
VALIDATED = ("market", "week", "metric", "experiment")  # parameters checked against the warehouse and catalog

PARAMETERS = """\
market: str = "ID"  # market code, e.g. ID; see `gne warehouse info`
metric: str = "{metric}"  # a catalog metric name; see `gne metrics list`
week: str = "latest"  # ISO week like 2026-W47, or latest (the last complete week)"""
SETUP = """\
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from gnelib import metrics, notebook
from gnelib.formats import format_value
from gnelib.periods import shift_week
from gnelib.viz import charts
from gnelib.viz.blocks import callout

ctx = notebook.start(market, week)
definition = metrics.get(metric)
series = None
if ctx.has_data:
    series = metrics.compute(ctx.conn, metric, weeks=(shift_week(ctx.week, -25), ctx.week), where=ctx.market_filter)"""
INSIGHTS = """\
if series is None or series.empty:
    display(callout(f"There is no data for {ctx.market} in {ctx.week}.", "warning", "No data."))
else:
    now = series.loc[series["period"] == ctx.week, "value"]
    value = format_value(now.iloc[0], definition.format) if len(now) else "no value"
    display(Markdown(f"- **{definition.title}** in {ctx.market}, {ctx.week}: {value}."))"""
TREND = """\
if series is not None and not series.empty:
    charts.trend_chart(series, title=f"{definition.title} in {ctx.market}, weekly", fmt=definition.format,
                       highlight=ctx.week)
    plt.show()"""


@dataclass(frozen=True)
class ProjectFiles:
    """Where templates, the run plan and the nbval reference parameters live (paths relative to the project)."""

    notebooks: Path = Path("notebooks")
    plan: Path = Path("parameters/weekly.yaml")
    references: Path = Path("tests/notebooks/refresh.py")


@dataclass(frozen=True)
class Scaffold:
    """What `new_template` wrote or changed, and the reference parameters it gave the template."""

    files: list[Path]
    parameters: dict[str, object]


def new_template(name: str, files: ProjectFiles, source: str | None = None, metric: str = "orders") -> Scaffold:
    """Write notebooks/NAME.ipynb (a thin template, or a copy of `source` without outputs) and its .py pair, add NAME
    to the plan and to the nbval reference parameters."""
    if not NAME_PATTERN.match(name):
        raise AuthoringError(
            f"Template name {name!r} is not valid: use lower-case letters, digits and _ (e.g. "
            "refund_watch), starting with a letter."
        )
    target = files.notebooks / f"{name}.ipynb"
    for existing in (target, target.with_suffix(".py")):
        if existing.exists():
            raise AuthoringError(f"{existing} already exists: choose another name, or edit that template.")
    notebook = _copy(files.notebooks, source, name) if source else _skeleton(name, metric)
    nbformat.write(notebook, target)
    written = [target, *sync_pair(target)]
    _add_to_plan(files.plan, name)
    parameters = _add_reference(files.references, name, source, target)
    return Scaffold([*written, files.plan, files.references], parameters)


def title_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _skeleton(name: str, metric: str) -> nbformat.NotebookNode:
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell(f"# {title_of(name)}\n\nOne line on the question this report answers."),
        v4.new_code_cell(PARAMETERS.format(metric=metric), metadata={"tags": ["parameters"]}),
        v4.new_code_cell(SETUP),
        v4.new_markdown_cell("## Key insights"),
        v4.new_code_cell(INSIGHTS),
        v4.new_markdown_cell("## Trend\n\nThe last 26 weeks of the metric in this market."),
        v4.new_code_cell(TREND),
    ]
    metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return v4.new_notebook(cells=cells, metadata=metadata)


def _copy(notebooks: Path, source: str, name: str) -> nbformat.NotebookNode:
    """`source`'s cells and metadata, without outputs, with new cell ids and the new title."""
    path = notebooks / f"{source}.ipynb"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in notebooks.glob("*.ipynb")))
        raise AuthoringError(f"--from {source}: there is no {path}; choose one of: {available}.")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell["id"] = uuid.uuid4().hex[:8]
        for key in ("papermill", "execution"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("papermill", None)
    first = notebook.cells[0] if notebook.cells else None
    if first is not None and first.cell_type == "markdown" and first.source.startswith("# "):
        first.source = "\n".join([f"# {title_of(name)}", *first.source.splitlines()[1:]])
    return notebook


def sync_pair(target: Path) -> list[Path]:
    """Write the py:percent pair through `jupytext --sync` (it reads notebooks/jupytext.toml); [] without that
    config."""
    from jupytext.cli import jupytext

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        jupytext(["--sync", str(target)])
    pair = target.with_suffix(".py")
    return [pair] if pair.exists() else []


def _add_to_plan(plan: Path, name: str) -> None:
    """`  NAME: {}` as the last entry of the plan's `templates:` mapping."""
    from gnelib.reporting.plan import load_plan

    lines = plan.read_text().splitlines()
    try:
        start = lines.index("templates:")
    except ValueError:
        raise AuthoringError(
            f"{plan} has no `templates:` block (a line of its own): add `{name}: {{}}` under its templates yourself."
        ) from None
    end = start + 1
    for index in range(start + 1, len(lines)):
        if lines[index].strip() and not lines[index].startswith((" ", "#")):
            break
        if lines[index].startswith(" "):
            end = index + 1
    insert_lines(plan, end, [f"  {name}: {{}}"], lambda: load_plan(plan).templates[name])


def _add_reference(references: Path, name: str, source: str | None, target: Path) -> dict[str, object]:
    """An entry in refresh.py's REFERENCE_PARAMETERS: `source`'s parameters, else the first entry's market and week
    with the template's own defaults for the other validated parameters it declares."""
    from gnelib.reporting.params import declared_parameters

    node = _references_node(references)
    existing = ast.literal_eval(node)
    first = next(iter(existing.values()), {})
    declared = declared_parameters(target)
    parameters = dict(existing.get(source) or {key: first[key] for key in ("market", "week") if key in first})
    for key in VALIDATED:
        if key in declared and key not in parameters:
            parameters[key] = declared[key].default
    parameters = {key: value for key, value in parameters.items() if key in declared}
    line = f"    {json.dumps(name)}: {json.dumps(parameters)},"
    insert_lines(references, node.end_lineno - 1, [line], lambda: ast.literal_eval(_references_node(references))[name])
    return parameters


def _references_node(references: Path) -> ast.Dict:
    for statement in ast.parse(references.read_text()).body:
        if isinstance(statement, ast.Assign) and getattr(statement.targets[0], "id", "") == REFERENCES_NAME:
            if isinstance(statement.value, ast.Dict):
                return statement.value
    raise AuthoringError(
        f"{references} has no `{REFERENCES_NAME} = {{...}}`: add the template's reference parameters there by hand."
    )
