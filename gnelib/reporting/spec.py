"""One run: a template, its validated parameters, its report slot, and the hash of all it depends on."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import gnelib
from gnelib.code_version import code_hash
from gnelib.reporting.paths import ReportPaths


@dataclass(frozen=True)
class RunSpec:
    """What to execute and where its outputs go; built only from validated values."""

    template: Path
    week: str
    market: str
    parameters: dict[str, object] = field(hash=False)
    paths: ReportPaths
    data_version: str
    unmet: str = ""  # why the template cannot run on this warehouse (empty: it can)
    report: str = ""  # the report's name when it is not the template's: `metric_deep_dive-refund_rate`

    @property
    def name(self) -> str:
        """The report's name: the template's (file name without .ipynb) unless `report` says otherwise."""
        return self.report or self.template.stem

    @property
    def slot(self) -> str:
        """`week/market/template`: the key of this report in the manifest."""
        return f"{self.week}/{self.market}/{self.name}"

    def input_hash(self) -> str:
        """Hash of the template file, the parameters, gnelib's version and code, and the data version."""
        digest = hashlib.sha256(self.template.read_bytes())
        payload = {
            "parameters": self.parameters,
            "gnelib": f"{gnelib.__version__}+{code_hash()}",
            "data": self.data_version,
        }
        digest.update(json.dumps(payload, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:20]
