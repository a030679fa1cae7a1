"""Run report templates through the real `gne run` CLI against a warehouse URL, and read what a stakeholder sees in
the HTML report: header facts, key-insight sentences, headline cards, tables and callouts (the PostgreSQL and
Spark end-to-end tests compare these, page by page and the batch's digest, with the DuckDB run on the same data)."""

import subprocess
import sys
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
GNE = Path(sys.executable).parent / "gne"
UNSTABLE_FACTS = ("Generated",)  # the header's generation time differs between any two runs


def write_plan(path: Path, market: str, week: str, templates: dict[str, dict],
               templates_dir: Path = REPO / "notebooks") -> Path:
    """A run plan: `templates` ({name: plan entry, e.g. {"parameters": {...}}}) for one market and week, no flagged
    deep dives."""
    plan = {"templates_dir": str(templates_dir), "markets": [market], "weeks": [week], "templates": templates}
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def start_run(plan: Path, warehouse: str, reports_dir: Path, workers: int = 2) -> subprocess.Popen:
    """`gne run PLAN --warehouse WAREHOUSE` in the repository, started in the background."""
    command = [str(GNE), "run", str(plan), "--warehouse", warehouse, "--reports-dir", str(reports_dir),
               "--workers", str(workers)]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_run(process: subprocess.Popen, timeout: float = 900) -> str:
    """Wait for a started run; its output, after checking it exited 0."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"gne run exited {process.returncode}:\n{output}"
    return output


def report_facts(page: Path) -> dict[str, list]:
    """What the report says, by part: header facts (without the generation time), key insights, cards, callouts
    and every table's rows, as whitespace-normalised text."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")

    def texts(selector: str) -> list[str]:
        return [" ".join(node.get_text(" ").split()) for node in soup.select(selector)]

    header = [fact for fact in texts(".gne-facts > *") if not fact.startswith(UNSTABLE_FACTS)]
    tables = [[[" ".join(cell.get_text(" ").split()) for cell in row.select("th, td")] for row in table.select("tr")]
              for table in soup.select("table.gne-table")]
    return {"title": texts(".gne-title"), "header": header, "insights": texts(".gne-insight"),
            "cards": texts(".gne-card"), "callouts": texts("[class*=gne-callout]"), "tables": tables}


def assert_same_report(page: Path, reference: Path, needs: tuple[str, ...] = ("insights", "tables")) -> dict[str, list]:
    """`page` says exactly what `reference` says (part by part); returns the reference's facts. The reference must
    have something in each part of `needs`, so an empty page cannot pass."""
    facts, expected = report_facts(page), report_facts(reference)
    assert all(expected[part] for part in needs), f"{reference}: nothing to compare in one of {needs}"
    for part, values in expected.items():
        assert facts[part] == values, f"{page.name}: {part} differ from the DuckDB run's"
    return expected


def assert_same_digest(reports: Path, reference: Path, week: str) -> None:
    """The batch's digest (the weekly scan of every market: this week's and last week's findings) in `reports`
    says what the one in `reference` says."""
    page = f"{week}/digest.html"
    assert_same_report(reports / page, reference / page, needs=("insights",))
