"""One real `gne run` of a flagged-deep-dive plan on the small warehouse (seed 7), shared by the digest tests."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gnelib.cli import app
from gnelib.reporting.flagged import load_findings

REPO = Path(__file__).parents[2]
WEEK = "2026-W47"
MARKETS = ["ID", "VN"]


@dataclass(frozen=True)
class FlaggedRun:
    """The outcome of the run: its reports folder, stderr, manifest records by slot, and the saved findings."""

    reports: Path
    stderr: str
    runs: dict[str, dict]

    def findings(self, week: str = WEEK):
        return load_findings(self.reports, week)[1]


@pytest.fixture(scope="session")
def flagged_run(small_warehouse, tmp_path_factory) -> FlaggedRun:
    """`gne run` of a plan with no fixed template and `deep_dive: flagged`, markets ID and VN, the latest week."""
    root = tmp_path_factory.mktemp("flagged")
    plan = root / "plan.yaml"
    plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: [{', '.join(MARKETS)}]\nweeks: latest\n"
                    "deep_dive: flagged\ntemplates: {}\n")
    reports = root / "reports"
    with pytest.MonkeyPatch.context() as patch:
        for name in ("GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS", "GNE_AGGREGATES", "GNE_REPORTS_DIR"):
            patch.delenv(name, raising=False)
        patch.setenv("GNE_WAREHOUSE", str(small_warehouse))
        patch.chdir(REPO)
        done = CliRunner().invoke(app, ["run", str(plan), "--workers", "2", "--reports-dir", str(reports)],
                                  catch_exceptions=False)
    assert done.exit_code == 0, done.output + done.stderr
    runs = {record["slot"]: record for record in json.loads((reports / "runs.json").read_text())["runs"]}
    return FlaggedRun(reports, done.stderr, runs)
