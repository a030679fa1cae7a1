"""Fixtures for the security checks: the session's generated reports (shared with tests/browser) and a private
copy of the small warehouse that an attack could not damage for other tests."""

import shutil
from pathlib import Path

import pytest
from browser.report_build import BuiltReports, build_session_reports


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> BuiltReports:
    """Every template for ID and VN (latest week) plus the seller-text fixture, run once by the real `gne run`."""
    return build_session_reports(tmp_path_factory, small_warehouse)


@pytest.fixture(scope="module")
def warehouse_copy(tmp_path_factory: pytest.TempPathFactory, small_warehouse: Path) -> Path:
    """A copy of the small warehouse for this module."""
    path = tmp_path_factory.mktemp("attacked") / "gne.duckdb"
    shutil.copy(small_warehouse, path)
    return path
