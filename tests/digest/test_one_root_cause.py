"""One owner for "what carried it" (issue 17 item 3): for every flagged cell of the week, the digest's sentence and
the deep dive of that metric × market × week name the same segments, or both say the change is broad-based, or
neither names any. The deep dive's root cause owns the statement (`analysis.deep_dive.explain_findings`)."""

import re

import pytest

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.reporting.flagged import load_week
from gnelib.warehouse import connect

WEEK = "2026-W47"
NAMING_KINDS = ("change", "mix_shift", "driver")
DRIVER = re.compile(r"of the (?:rise|fall|change) comes from (.+?)(?: \(the other [^)]*\))?, ")
SHIFTED = re.compile(r"because \w[\w ]* moved to (.+?) \(")
CARRIED = re.compile(r"; carried by (?:a shift of [\w ]+? to )?(.+?)\.(?: —|$)")


def digest_statement(line: str) -> tuple[list[str], bool]:
    """(segments the digest line names as carrying the change, whether it calls it broad-based)."""
    found = CARRIED.search(line)
    return (found.group(1).split(", ") if found else []), "broad-based" in line


def deep_dive_statement(insights) -> tuple[list[str], bool]:
    """(segments the deep dive's sentences name as carrying the change, whether they call it broad-based)."""
    named, broad = [], False
    for insight in insights:
        if insight.kind not in NAMING_KINDS:
            continue
        named += DRIVER.findall(insight.text) + SHIFTED.findall(insight.text)
        broad = broad or "is broad-based" in insight.text
    return named, broad


@pytest.fixture(scope="module")
def store_env(flagged_run):
    """Read the warehouse the run read, through the run's aggregate store (it answers as the warehouse does)."""
    store = next((flagged_run.reports / ".aggregates").glob("*/manifest.json")).parent
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GNE_WAREHOUSE", str(flagged_run.warehouse))
        patch.setenv("GNE_AGGREGATES", str(store))
        yield


def agreement(reports, week: str = WEEK) -> dict[str, int]:
    """Check every flagged cell of `week` in a batch's reports folder (its digest.md and findings.json) against
    the deep dive of the same metric × market × week; returns how many named segments, said broad-based, or named
    nothing."""
    lines = [line for line in (reports / week / "digest.md").read_text().splitlines() if re.match(r"^\d+\. ", line)]
    table = load_week(reports, week).findings
    assert len(lines) == len(table) > 0
    said = {"named": 0, "broad": 0, "silent": 0}
    with connect() as conn:
        for _, row in table.iterrows():
            title = metrics.get(row["metric"]).title
            line = next(line for line in lines if f"** {title} in {row['market']}" in line)
            digest = digest_statement(line)
            if row["level"] == "market":
                dive = deep_dive_statement(deep_dive(conn, row["metric"], row["market"], week).insights)
            else:  # only a segment moved: the deep dive's headline (the market total) is not flagged, so it says
                dive = ([], False)  # "in line with its usual level" and names no segment; the digest neither
            assert digest == dive, (row["metric"], row["market"], line)
            said["named" if digest[0] else "broad" if digest[1] else "silent"] += 1
    return said


def test_the_digest_and_the_deep_dive_name_the_same_carrying_segments(flagged_run, store_env):
    said = agreement(flagged_run.reports)
    assert said["named"] >= 3, said  # the statement is made, not only agreed on by silence
