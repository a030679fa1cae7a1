"""Fixtures for the Spark end-to-end tests: the small demo warehouse exported to Parquet, and one local
SparkSession over it for the whole test session (pyspark starts slowly; the session is left to end with pytest)."""

from pathlib import Path

import pytest

from gnelib.config import load_project
from gnelib.warehouse.connection import ProjectConnection
from gnelib.warehouse.spark import SparkConnection, export_parquet, local_session


@pytest.fixture(scope="session")
def parquet_dir(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small warehouse as one <table>.parquet per table."""
    directory = tmp_path_factory.mktemp("parquet")
    export_parquet(small_warehouse, directory)
    return directory


@pytest.fixture(scope="session")
def spark(parquet_dir: Path) -> ProjectConnection:
    """A Spark local[2] connection over the Parquet tables, read through the project config like `connect()`."""
    return ProjectConnection(SparkConnection(local_session(), parquet_dir), load_project())
