"""Fixtures for the browser checks: the session's reports (built once with `gne run`), a headless Chromium, and the
folder where screenshots are kept for people to look at."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from browser.chromium import chromium
from browser.report_build import REPO, BuiltReports, build_session_reports

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> BuiltReports:
    """Every template for ID and VN (latest week) plus the seller-text fixture, run by the real `gne run`."""
    return build_session_reports(tmp_path_factory, small_warehouse)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (/usr/bin/chromium) for the session."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """test-artifacts/ at the repository root (git-ignored): screenshots for a human to review."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
