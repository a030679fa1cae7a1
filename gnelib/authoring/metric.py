"""`gne new metric NAME --group GROUP`: a catalog entry the catalog accepts (placeholder SQL to replace) in the
group's catalog file, and a pandas reference stub that the metric value test calls until it is written."""

import ast
from pathlib import Path

import yaml

from gnelib.authoring.edits import AuthoringError, insert_lines
from gnelib.authoring.template import NAME_PATTERN, title_of

KINDS = ("ratio", "count")
REFERENCES_NAME = "REFERENCE"
ENTRY = """
  - name: {name}
    title: {title}
    description: >-
      Replace with exactly what counts, and over what: the events in the numerator, the rows in the denominator.
    kind: {kind}
    numerator: COUNT(*)  # replace: the events counted, e.g. COUNT_IF(refunded_at IS NOT NULL)"""
DENOMINATOR = "    denominator: COUNT(*)  # replace: what they are counted over"
TAIL = """    direction: lower_is_better  # or higher_is_better, neutral
    format: {format}"""
STUB = '''def {name}(t: Tables) -> pd.DataFrame:
    """{title}: the metric recomputed from the raw tables in pandas (see refund_rate for a ratio)."""
    raise NotImplementedError("write the pandas reference of {name} in tests/metrics/metric_reference.py")


'''


def new_metric(name: str, group: str, kind: str, catalog: Path, references: Path) -> list[Path]:
    """Append NAME to the catalog file of `group` and its reference stub to `references`; return both files."""
    from gnelib.metrics.catalog import load_catalog

    if not NAME_PATTERN.match(name):
        raise AuthoringError(
            f"Metric name {name!r} is not valid: use lower-case letters, digits and _, starting with a letter."
        )
    if kind not in KINDS:
        raise AuthoringError(f"--kind {kind!r} is not one of {', '.join(KINDS)} (write other kinds by hand).")
    if name in load_catalog(catalog).names():
        raise AuthoringError(f"The catalog already has a metric {name!r} (`gne metrics show {name}`).")
    target = _group_file(catalog, group)
    lines = ENTRY.format(name=name, title=title_of(name), kind=kind).splitlines()
    lines += [DENOMINATOR] if kind == "ratio" else []
    lines += TAIL.format(format="percent" if kind == "ratio" else "count").splitlines()
    insert_lines(target, len(target.read_text().splitlines()), lines, lambda: load_catalog(catalog).get(name))
    _add_reference_stub(references, name)
    return [target, references]


def _group_file(catalog: Path, group: str) -> Path:
    """The catalog file whose `defaults` name `group` (as `pillar:` or `group:`) and a source and time column."""
    groups = {}
    for path in sorted(catalog.glob("*.yaml")):
        defaults = (yaml.safe_load(path.read_text()) or {}).get("defaults") or {}
        found = defaults.get("pillar") or defaults.get("group")
        if found and defaults.get("source") and defaults.get("time_column"):
            groups[found] = path
    if group not in groups:
        raise AuthoringError(
            f"No catalog file in {catalog} has defaults for group {group!r} with a source and a "
            f"time column; choose one of: {', '.join(sorted(groups))}."
        )
    return groups[group]


def _add_reference_stub(references: Path, name: str) -> None:
    """`name` in the REFERENCE list and its stub function above it."""
    statement, names = _reference_list(references)
    insert_lines(references, names.end_lineno - 1, [f"        {name},"], lambda: _reference_list(references))
    insert_lines(
        references,
        statement.lineno - 1,
        STUB.format(name=name, title=title_of(name)).splitlines(),
        lambda: _reference_list(references),
    )


def _reference_list(references: Path) -> tuple[ast.stmt, ast.List]:
    """The `REFERENCE = {function.__name__: function for function in [...]}` statement and its list."""
    for statement in ast.parse(references.read_text()).body:
        target = getattr(statement, "target", None) or (getattr(statement, "targets", None) or [None])[0]
        value = getattr(statement, "value", None)
        if getattr(target, "id", "") == REFERENCES_NAME and isinstance(value, ast.DictComp):
            names = value.generators[0].iter
            if isinstance(names, ast.List):
                return statement, names
    raise AuthoringError(
        f"{references} has no `{REFERENCES_NAME} = {{function.__name__: function for function in "
        "[...]}`: add the metric's pandas reference there by hand."
    )
