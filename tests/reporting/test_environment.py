"""Every process of a batch — the kernels and the parent's own scans (flagged deep dives, digest) — reads the
warehouse under one environment, with DuckDB's memory bounded and its spill folder inside the reports directory."""

from pathlib import Path

import pytest

from gnelib.reporting.environment import (
    MAX_LIMIT_MB,
    MIN_LIMIT_MB,
    SPILL_FOLDER,
    environment_set,
    kernel_environment,
    memory_limit,
)
from gnelib.reporting.facts import WarehouseFacts
from gnelib.warehouse import connect
from gnelib.warehouse.connection import MEMORY_LIMIT_ENV_VAR


def facts(source: Path) -> WarehouseFacts:
    return WarehouseFacts(source=str(source), catalog=Path("catalog"), config=None, grain="market",
                          markets=("ID",), first_week="2026-W01", last_complete_week="2026-W47",
                          as_of="2026-11-26 00:00:00", experiments=(), experiment_ids=(), data_version="v")


def test_a_connection_opened_under_the_environment_is_bounded_and_spills_in_the_reports_dir(
        small_warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV_VAR, raising=False)
    environment = kernel_environment(facts(small_warehouse), tmp_path / "reports", workers=2)
    with environment_set(environment), connect() as conn:
        settings = conn.sql("SELECT current_setting('memory_limit') AS memory, "
                            "current_setting('temp_directory') AS spill").iloc[0]
    limit_mb = int(memory_limit(2).removesuffix("MB"))
    assert MIN_LIMIT_MB <= limit_mb <= MAX_LIMIT_MB
    value, unit = settings["memory"].split()
    in_mb = float(value) * {"MiB": 2**20 / 1e6, "GiB": 2**30 / 1e6}[unit]  # DuckDB shows the limit in binary units
    assert in_mb == pytest.approx(limit_mb, rel=0.01)
    assert Path(settings["spill"]) == (tmp_path / "reports" / SPILL_FOLDER).resolve()


def test_the_limit_shares_the_machine_between_workers_and_the_parent(monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV_VAR, raising=False)
    limits = [int(memory_limit(workers).removesuffix("MB")) for workers in (1, 2, 64, 10_000)]
    assert limits == sorted(limits, reverse=True)  # more workers, never more memory each
    assert limits[-1] == MIN_LIMIT_MB and limits[0] <= MAX_LIMIT_MB
    monkeypatch.setenv(MEMORY_LIMIT_ENV_VAR, "2GB")
    assert memory_limit(2) == "2GB"  # the user's setting wins
