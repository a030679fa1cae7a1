"""One real `gne run` of a flagged-deep-dive plan on the small warehouse (seed 7), shared by the digest tests.

Before it, 2026-W46 is published on the small warehouse as a run of that week publishes it, and late refunds for
W46 orders in ID are inserted into a copy of the warehouse; the W47 run reads the copy, so its reports have a
previous week's report to compare with and a restatement to find."""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from gnelib.cli import app
from gnelib.reporting.flagged import load_week, week_findings
from gnelib.reporting.params import ValidationContext

REPO = Path(__file__).parents[2]
WEEK, PREVIOUS = "2026-W47", "2026-W46"
MARKETS = ["ID", "VN"]
LATE_MARKET, LATE_REFUNDS = "ID", 60
CLEAN_ENV = ("GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS", "GNE_AGGREGATES", "GNE_REPORTS_DIR")


@dataclass(frozen=True)
class FlaggedRun:
    """The outcome of the run: its reports folder, stderr, manifest records by slot, the saved findings, and the
    warehouses (`original`: W46 was published on it; `warehouse`: the copy with late refunds the run read)."""

    reports: Path
    stderr: str
    runs: dict[str, dict]
    original: Path
    warehouse: Path

    def findings(self, week: str = WEEK):
        return load_week(self.reports, week).findings

    def page(self, template: str, market: str = LATE_MARKET) -> str:
        return (self.reports / WEEK / market / f"{template}.html").read_text()


def insert_late_refunds(path: Path) -> None:
    """Approved refunds, one day after the order, for W46 orders in ID that had no after-sales request."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"""
            INSERT INTO after_sales
            SELECT (SELECT MAX(request_id) FROM after_sales) + ROW_NUMBER() OVER (ORDER BY o.order_id), o.order_id,
                   o.ordered_at + INTERVAL 12 HOUR, 'refund_only', 'changed_mind', 'approved', 0.0,
                   o.ordered_at + INTERVAL 1 DAY, FALSE, NULL
            FROM orders AS o LEFT JOIN after_sales AS a USING (order_id)
            WHERE o.market = '{LATE_MARKET}' AND o.cancelled_at IS NULL AND a.order_id IS NULL
              AND o.ordered_at >= '2026-11-09' AND o.ordered_at < '2026-11-16'
            ORDER BY o.order_id LIMIT {LATE_REFUNDS}""")


@pytest.fixture(scope="session")
def flagged_run(small_warehouse, tmp_path_factory) -> FlaggedRun:
    """`gne run` of a plan with `deep_dive: flagged`, markets ID and VN, the latest week, and ID's scorecard and
    after-sales report, on the copy with late refunds, after W46 was published on the original."""
    root = tmp_path_factory.mktemp("flagged")
    plan, reports, late = root / "plan.yaml", root / "reports", root / "late.duckdb"
    plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: [{', '.join(MARKETS)}]\nweeks: latest\n"
                    f"deep_dive: flagged\ntemplates:\n  weekly_scorecard: {{markets: [{LATE_MARKET}]}}\n"
                    f"  after_sales: {{markets: [{LATE_MARKET}]}}\n")
    shutil.copy(small_warehouse, late)
    with pytest.MonkeyPatch.context() as patch:
        for name in CLEAN_ENV:
            patch.delenv(name, raising=False)
        patch.chdir(REPO)
        patch.setenv("GNE_WAREHOUSE", str(small_warehouse))
        week_findings(reports, ValidationContext().facts, PREVIOUS)  # what the run of W46 publishes
        insert_late_refunds(late)
        patch.setenv("GNE_WAREHOUSE", str(late))
        done = CliRunner().invoke(app, ["run", str(plan), "--workers", "2", "--reports-dir", str(reports)],
                                  catch_exceptions=False)
    assert done.exit_code == 0, done.output + done.stderr
    runs = {record["slot"]: record for record in json.loads((reports / "runs.json").read_text())["runs"]}
    return FlaggedRun(reports, done.stderr, runs, small_warehouse, late)
