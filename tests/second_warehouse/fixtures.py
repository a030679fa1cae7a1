"""Session fixtures of the second warehouse, shared by tests/second_warehouse/ and tests/browser/ (tests/conftest.py
imports them, so each is built once per session): the shop project, and one `gne run` of the weekly plan on it."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from second_warehouse.generate import build, write_config

REPO = Path(__file__).parents[2]
WEEK = "2025-W12"  # the last complete week of the shop's data
REGIONS = ("east", "north", "south", "west")  # the values of its grain, `region`
GENERIC = ("weekly_scorecard", "metric_deep_dive")
SKIPPED = {  # the domain templates, and why they do not run on the shop
    "seller_risk": "the catalog has no metric enforcement_actions",
    "listing_compliance": "the catalog has no metric listing_violation_rate",
    "after_sales": "the catalog has no metric refund_rate",
    "experiment_readout": "the project config names no experiments source",
}
PROJECT_ENV = ("GNE_WAREHOUSE", "GNE_CATALOG", "GNE_CONFIG", "GNE_UNAVAILABLE_METRICS")
WEEKLY_TEMPLATES = ("  weekly_scorecard: {}\n  metric_deep_dive: {parameters: {metric: late_shipment_rate}}\n"
                    "  seller_risk: {}\n  listing_compliance: {}\n  after_sales: {}\n"
                    "  experiment_readout: {markets: [all]}\n")


@dataclass(frozen=True)
class ShopRun:
    """The weekly plan's `gne run` on the shop: the command's result, its manifest records by slot, the reports."""

    done: Result
    runs: dict[str, dict]
    reports_dir: Path

    @property
    def index(self) -> str:
        return (self.reports_dir / "index.html").read_text()


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory holding gne.yaml and the second warehouse (shop.duckdb)."""
    root = tmp_path_factory.mktemp("shop")
    write_config(root, build(root / "shop.duckdb"))
    return root


@pytest.fixture(scope="session")
def shop_weekly_run(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> ShopRun:
    """`gne run` of every template of the weekly plan on the shop (the deep dive on one of its metrics), once."""
    from gnelib.cli import app  # imported here: tests/conftest.py imports this module in every session

    plan = shop / "weekly.yaml"
    plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: all\nweeks: latest\ntemplates:\n{WEEKLY_TEMPLATES}")
    reports = tmp_path_factory.mktemp("shop-reports")
    with pytest.MonkeyPatch.context() as patch:
        for name in PROJECT_ENV:
            patch.delenv(name, raising=False)
        patch.chdir(shop)
        done = CliRunner().invoke(app, ["run", str(plan), "--workers", "2", "--reports-dir", str(reports)],
                                  catch_exceptions=False)
    runs = {record["slot"]: record for record in json.loads((reports / "runs.json").read_text())["runs"]}
    return ShopRun(done, runs, reports)
