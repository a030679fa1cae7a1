"""Build the reports the browser and security tests look at, once per test session, with the real `gne run` CLI.

The plan: every template in notebooks/ for two markets (ID, VN; market `all` for templates that run across
markets) and the latest week, plus the seller-text fixture (tests/browser/fixtures/) for ID.
"""

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gnelib.errors import GneError
from gnelib.reporting.params import ALL_MARKETS, ValidationContext, declared_parameters
from gnelib.reporting.plan import Plan, expand_plan

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GNE = Path(sys.executable).parent / "gne"
MARKETS = ("ID", "VN")
SELLER_TEXT_TEMPLATE = "seller_text"
SELLER_TEXT_MARKET = "ID"
_CACHE_NAME = "gne-session-reports"


def run_gne(*args: object, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed `gne` command in a subprocess; returns exit code, stdout and stderr."""
    return subprocess.run(
        [str(GNE), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def report_templates() -> list[str]:
    """The templates in notebooks/, by name."""
    return sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))


def template_markets(template: Path) -> list[str]:
    """The markets a template runs for here: ID and VN, or `all` if it runs across markets."""
    declared = declared_parameters(template)
    market = declared.get("market")
    return [ALL_MARKETS] if market is None or market.default == ALL_MARKETS else list(MARKETS)


def report_slots() -> list[tuple[str, str]]:
    """(template, market) of every report the session builds from notebooks/."""
    return [(name, market) for name in report_templates() for market in template_markets(NOTEBOOKS / f"{name}.ipynb")]


@dataclass(frozen=True)
class BuiltReports:
    """The reports directory of a `gne run`, its manifest records by slot, the command's outcome, and the templates
    left out of the run because their parameters do not validate (name → gne's message)."""

    reports_dir: Path
    warehouse: Path
    records: dict[str, dict]
    returncode: int
    output: str
    rejected: dict[str, str]

    @property
    def week(self) -> str:
        return next(iter(self.records.values()))["week"]

    def html(self, template: str, market: str) -> Path:
        """The template's page for `market`: `<template>.html`, or the one `<template>-<name>.html` a template
        that names its reports writes (the experiment readout: `experiment_readout-<experiment>.html`)."""
        folder = self.reports_dir / self.week / market
        named = sorted(folder.glob(f"{template}-*.html"))
        exact = folder / f"{template}.html"
        return exact if exact.exists() or len(named) != 1 else named[0]


def build_session_reports(tmp_path_factory: pytest.TempPathFactory, warehouse: Path) -> BuiltReports:
    """Run the plan once per session; later calls (from other test folders) reuse the same reports."""
    root = tmp_path_factory.getbasetemp() / _CACHE_NAME
    outcome = root / "outcome.json"
    if not outcome.is_file():
        _run_plan(root, warehouse, outcome)
    saved = json.loads(outcome.read_text(encoding="utf-8"))
    reports_dir = root / "reports"
    manifest = reports_dir / "runs.json"
    if not manifest.is_file():
        raise AssertionError(f"gne run wrote no reports (exit {saved['returncode']}):\n{saved['output']}")
    runs = json.loads(manifest.read_text(encoding="utf-8"))["runs"]
    return BuiltReports(
        reports_dir=reports_dir,
        warehouse=warehouse,
        records={run["slot"]: run for run in runs},
        returncode=saved["returncode"],
        output=saved["output"],
        rejected=saved["rejected"],
    )


def _run_plan(root: Path, warehouse: Path, outcome: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    templates = root / "templates"
    templates.mkdir(parents=True)
    for notebook in [*NOTEBOOKS.glob("*.ipynb"), FIXTURES / f"{SELLER_TEXT_TEMPLATE}.ipynb"]:
        shutil.copy(notebook, templates / notebook.name)
    entries = {name: {"markets": template_markets(templates / f"{name}.ipynb")} for name in report_templates()}
    entries[SELLER_TEXT_TEMPLATE] = {"markets": [SELLER_TEXT_MARKET]}
    rejected = _invalid_templates(entries, templates, root / "reports", warehouse)
    plan = {
        "templates_dir": str(templates),
        "weeks": "latest",
        "templates": {name: entry for name, entry in entries.items() if name not in rejected},
    }
    plan_path = root / "plan.yaml"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    done = run_gne("run", plan_path, "--warehouse", warehouse, "--reports-dir", root / "reports", "--workers", 2)
    saved = {"returncode": done.returncode, "output": done.stdout + done.stderr, "rejected": rejected}
    outcome.write_text(json.dumps(saved), encoding="utf-8")


def _invalid_templates(entries: dict[str, dict], templates: Path, reports_dir: Path, warehouse: Path) -> dict[str, str]:
    """Templates whose parameters gne would reject: left out, so one broken template does not stop the others."""
    context = ValidationContext(warehouse)
    rejected = {}
    for name, entry in entries.items():
        plan = Plan(templates={name: entry}, weeks="latest", templates_dir=str(templates))
        try:
            expand_plan(plan, templates / "plan.yaml", reports_dir, context)
        except GneError as error:
            rejected[name] = str(error)
    return rejected
