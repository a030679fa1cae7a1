"""What a template needs from the catalog and the config, declared in its notebook metadata:

```json
"metadata": {"gne": {"requires": {"metrics": ["refund_rate"], "groups": ["make_it_right"], "experiments": true}}}
```

A template without `gne.requires` runs on any catalog (the generic templates). A template whose needs are not met
is not run: the plan output and the index say why.
"""

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
