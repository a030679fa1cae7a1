"""The re-run command on failure pages names every parameter, the reports directory, the warehouse and catalog."""

import shlex
from pathlib import Path

from gnelib.reporting.facts import WarehouseFacts
from gnelib.reporting.paths import report_paths
from gnelib.reporting.rerun import rerun_command
from gnelib.reporting.spec import RunSpec


def facts(**changes) -> WarehouseFacts:
    base = dict(source="/srv/project/data/shop.duckdb", catalog=Path("/srv/project/catalog"), config=None,
                grain="region", markets=("north",), first_week="2025-W02", last_complete_week="2025-W12",
                as_of="2025-03-30 12:00:00", experiments=(), experiment_ids=(), data_version="v")
    return WarehouseFacts(**{**base, **changes})


def spec(parameters: dict) -> RunSpec:
    template = Path("/srv/project/notebooks/metric_deep_dive.ipynb")
    return RunSpec(template, "2025-W12", "north", parameters,
                   report_paths(Path("/srv/project/reports"), "2025-W12", "north", template.stem), "v")


def test_paths_under_the_project_are_relative_and_values_are_quoted():
    command = rerun_command(spec({"market": "north", "week": "2025-W12", "metric": "late rate"}),
                            Path("/srv/project/reports"), facts(), Path("/srv/project"))
    assert shlex.split(command) == [
        "gne", "run", "notebooks/metric_deep_dive.ipynb", "-p", "market", "north", "-p", "week", "2025-W12",
        "-p", "metric", "late rate", "--reports-dir", "reports", "--warehouse", "data/shop.duckdb",
        "--catalog", "catalog", "--force"]


def test_sources_named_by_the_environment_or_an_option_stay_as_named():
    chosen = facts(source_given="$GNE_WAREHOUSE", catalog_given="../shared/catalog")
    command = rerun_command(spec({"market": "north"}), Path("/srv/project/reports"), chosen, Path("/srv/project"))
    assert command.endswith('--warehouse "$GNE_WAREHOUSE" --catalog ../shared/catalog --force')
    url = facts(source="spark://local[2]?parquet=/data/pq")
    assert "--warehouse 'spark://local[2]?parquet=/data/pq'" in rerun_command(
        spec({}), Path("/srv/project/reports"), url, Path("/srv/project"))
