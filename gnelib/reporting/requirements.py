"""What a template needs from the catalog and the config, declared in its notebook metadata:

```json
"metadata": {"gne": {"requires": {"metrics": ["refund_rate"], "groups": ["make_it_right"], "experiments": true}}}
```

A template without `gne.requires` runs on any catalog (the generic templates). A template whose needs are not met
is not run: the plan output and the index say why. `reads_metrics` tells from a template's imports whether it can
read the batch aggregate store at all.
"""

import ast
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from gnelib.reporting.errors import PlanError


class Requirements(BaseModel):
    """The catalog metrics and groups a template reads, and whether it needs the config's experiments source."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metrics: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    experiments: bool = False
    policies: bool = False


@dataclass(frozen=True)
class Available:
    """What the catalog and config offer on this warehouse (metrics that fail `gne check` are not available)."""

    metrics: Collection[str]
    groups: Collection[str]
    experiments: bool
    unavailable: Collection[str] = ()  # metrics in the catalog that fail on this warehouse
    policies: bool = False  # the project config names a policy-launch table


def template_requirements(template: Path) -> Requirements:
    """The `gne.requires` metadata of a template notebook (empty when it declares none)."""
    metadata = json.loads(template.read_bytes()).get("metadata", {}).get("gne", {})  # no nbformat: see `params`
    try:
        return Requirements.model_validate(metadata.get("requires", {}))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, issue['loc']))}: {issue['msg']}" for issue in error.errors())
        raise PlanError(f"{template.name}: notebook metadata gne.requires is not valid ({problems}); write "
                        '{"metrics": [...], "groups": [...], "experiments": true|false, '
                        '"policies": true|false}.') from None


NOT_METRIC_READERS = ("gnelib.config", "gnelib.errors", "gnelib.formats", "gnelib.periods", "gnelib.viz",
                      "gnelib.warehouse")
"""gnelib modules that never compute a catalog metric or a scan (everything else may read the aggregate store)."""


def reads_metrics(template: Path) -> bool:
    """Whether the template may compute catalog metrics or scans through gnelib (and so read the batch aggregate
    store): True unless every gnelib module its code cells import is in `NOT_METRIC_READERS`. A cell that does not
    parse (after dropping magics and shell lines) counts as reading."""
    cells = json.loads(template.read_bytes()).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", ""))
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            return True
        if any(_reads(module) for module in _imported_modules(tree)):
            return True
    return False


def _imported_modules(tree: ast.AST) -> list[str]:
    """Every module an import statement of `tree` names (`from gnelib import metrics` names gnelib.metrics)."""
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules += [f"{node.module}.{alias.name}" if node.module == "gnelib" else node.module
                        for alias in node.names]
    return modules


def _reads(module: str) -> bool:
    if module != "gnelib" and not module.startswith("gnelib."):
        return False
    return not any(module == quiet or module.startswith(f"{quiet}.") for quiet in NOT_METRIC_READERS)


def unmet(requirements: Requirements, available: Available) -> str | None:
    """Why the template cannot run here (one sentence), or None when everything it needs is available."""
    reasons = []
    broken = [name for name in requirements.metrics if name in available.unavailable]
    missing = [name for name in requirements.metrics if name not in available.metrics and name not in broken]
    if missing:
        reasons.append(f"the catalog has no metric {', '.join(missing)}")
    if broken:
        reasons.append(f"metric {', '.join(broken)} cannot be computed on this warehouse (see `gne check`)")
    groups = [name for name in requirements.groups if name not in available.groups]
    if groups:
        reasons.append(f"the catalog has no metric group {', '.join(groups)}")
    if requirements.experiments and not available.experiments:
        reasons.append("the project config names no experiments source")
    if requirements.policies and not available.policies:
        reasons.append("the project config names no policy launches (`policies:`)")
    return "; ".join(reasons) or None
