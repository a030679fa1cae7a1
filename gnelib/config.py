"""The project config (`gne.yaml`): where the data is, which catalog describes it, the report grain, the calendar,
the completeness check and the optional experiments source. Everything below it reads the warehouse through it.

Which file: the `path` argument, else $GNE_CONFIG, else `gne.yaml` in the current directory or a parent, else
the demo warehouse's config packaged with gnelib. $GNE_WAREHOUSE and $GNE_CATALOG override `source` and `catalog`.
Relative paths in a config file are relative to the file's directory (in the packaged demo config: to the
current directory).
"""

import os
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gnelib.errors import GneError

CONFIG_NAME = "gne.yaml"
CONFIG_ENV_VAR = "GNE_CONFIG"
WAREHOUSE_ENV_VAR = "GNE_WAREHOUSE"
CATALOG_ENV_VAR = "GNE_CATALOG"
PACKAGED_CONFIG = Path(__file__).parent / "warehouse" / "demo.gne.yaml"
PACKAGED_CATALOG_NAME = "packaged"
ENGINES = ("duckdb", "spark", "sc", "postgresql")
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
QUALIFIED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$"


class ConfigError(GneError):
    """The project config is missing, not valid YAML, or has a bad field; the message names file, line and field."""


class AsOf(BaseModel):
    """How the data's as-of time is read: one SQL query returning one timestamp, or the newest value of a column."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sql: str | None = None
    table: str | None = Field(default=None, pattern=QUALIFIED)
    column: str | None = Field(default=None, pattern=IDENTIFIER)

    @model_validator(mode="after")
    def _one_way(self) -> "AsOf":
        if (self.sql is None) == (self.table is None) or (self.table is None) != (self.column is None):
            raise ValueError("give either `sql:` (a query returning one timestamp) or both `table:` and `column:`")
        return self

    def query(self) -> str:
        """The SQL that returns the as-of timestamp in a column named `as_of`."""
        if self.sql is not None:
            return f"SELECT * FROM ({self.sql.strip().rstrip(';')}) AS as_of_query"
        return f"SELECT MAX({self.column}) AS as_of FROM {self.table}"


class Calendar(BaseModel):
    """How time is read: the as-of time, the first day of a report week, the time zone timestamps are in."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    as_of: AsOf
    week_start: Literal["monday"] = "monday"  # reports use ISO weeks (Monday to Sunday)
    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}; use an IANA name such as UTC or Asia/Jakarta") from None
        return zone


class Completeness(BaseModel):
    """Which catalog metric counts rows per period, and how far below normal a week counts as incomplete."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    trailing_weeks: int = Field(default=4, ge=1, le=52)
    min_ratio: float = Field(default=0.6, gt=0, le=1)


class Experiments(BaseModel):
    """Where experiment designs (one row per experiment) and their units (one row per randomised unit) are."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    designs: str = Field(pattern=QUALIFIED)
    units: str = Field(pattern=QUALIFIED)


class ProjectConfig(BaseModel):
    """The validated content of gne.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1)
    catalog: str = PACKAGED_CATALOG_NAME
    grain: str = Field(default="market", pattern=IDENTIFIER)
    calendar: Calendar
    completeness: Completeness
    experiments: Experiments | None = None
    metadata: str | None = None  # optional SQL returning key/value rows shown by `gne warehouse info`

    @field_validator("source")
    @classmethod
    def _known_engine(cls, source: str) -> str:
        scheme, separator, _ = source.partition("://")
        if separator and scheme not in ENGINES:
            raise ValueError(
                f"unknown engine {scheme!r}; write duckdb:///path/to/file.duckdb, spark://local[2]?parquet=DIR, "
                "sc://host:15002 or postgresql://user@host/db"
            )
        return source


@dataclass(frozen=True)
class Project:
    """A loaded config with its origin: `source` and `catalog` are resolved (env overrides and relative paths)."""

    settings: ProjectConfig
    file: Path | None  # None for the packaged demo config
    source: str
    catalog: Path
    source_given: str = ""  # how the source was named: "" (the config), "$GNE_WAREHOUSE", or the option's text
    catalog_given: str = ""

    @property
    def grain(self) -> str:
        return self.settings.grain

    @property
    def calendar(self) -> Calendar:
        return self.settings.calendar

    @property
    def completeness(self) -> Completeness:
        return self.settings.completeness

    @property
    def experiments(self) -> Experiments | None:
        return self.settings.experiments

    @property
    def origin(self) -> str:
        """Where the config came from, for messages."""
        return str(self.file) if self.file is not None else f"the packaged demo config ({PACKAGED_CONFIG.name})"


def config_file(path: str | os.PathLike | None = None) -> Path | None:
    """The config file in force: `path`, $GNE_CONFIG, ./gne.yaml or a parent's; None means the packaged demo."""
    chosen = path if path is not None else os.environ.get(CONFIG_ENV_VAR) or None
    if chosen is not None:
        location = Path(chosen).expanduser()
        if not location.is_file():
            origin = "argument" if path is not None else f"${CONFIG_ENV_VAR}"
            raise ConfigError(f"Config file {str(location)!r} (from the {origin}) does not exist; "
                              "write one with `gne init`.")
        return location.resolve()
    for directory in (Path.cwd(), *Path.cwd().parents):
        if (directory / CONFIG_NAME).is_file():
            return (directory / CONFIG_NAME).resolve()
    return None


def load_project(path: str | os.PathLike | None = None) -> Project:
    """Load and validate the config in force, then apply $GNE_WAREHOUSE / $GNE_CATALOG."""
    found = config_file(path)
    settings = read_config(found or PACKAGED_CONFIG)
    base = found.parent if found is not None else Path.cwd()
    override = os.environ.get(WAREHOUSE_ENV_VAR)
    source = _resolve_source(override, Path.cwd()) if override else _resolve_source(settings.source, base)
    catalog = os.environ.get(CATALOG_ENV_VAR) or settings.catalog
    return Project(settings, found, source, _resolve_catalog(catalog, base),
                   source_given=f"${WAREHOUSE_ENV_VAR}" if override else "",
                   catalog_given=f"${CATALOG_ENV_VAR}" if os.environ.get(CATALOG_ENV_VAR) else "")


def read_config(path: Path) -> ProjectConfig:
    """Validate one config file; errors name the file, the line and the field."""
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error}).") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: the config is a mapping with at least source, calendar and completeness; "
                          "write one with `gne init`.")
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            field = ".".join(str(part) for part in issue["loc"]) or "config"
            message = issue["msg"].removeprefix("Value error, ")
            if issue["type"] == "missing":
                message = "required field is missing"
            elif issue["type"] == "extra_forbidden":
                message = "unknown field (check the spelling; `gne init` writes every field with a comment)"
            problems.append(f"{path}:{yaml_line(text, issue['loc'])}: field '{field}': {message}")
        raise ConfigError("\n".join(problems)) from None


def yaml_line(text: str, location: tuple) -> int:
    """The line (1-based) of the deepest YAML node on a validation error's path, or 1."""
    node = yaml.compose(text)
    line = 1
    for key in location:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(key)]
            if not match:
                break
            key_node, node = match[0]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _resolve_source(source: str, base: Path) -> str:
    """Relative DuckDB paths (`duckdb:///data/x.duckdb`, or a bare path) become absolute paths under `base`."""
    scheme, separator, rest = source.partition("://")
    if separator and scheme != "duckdb":
        return source
    location = Path(rest.removeprefix("/") if separator else source).expanduser()
    return str(location if location.is_absolute() else base / location)


def _resolve_catalog(catalog: str, base: Path) -> Path:
    from gnelib.metrics.catalog import PACKAGED_CATALOG

    if catalog == PACKAGED_CATALOG_NAME:
        return PACKAGED_CATALOG
    location = Path(catalog).expanduser()
    return location if location.is_absolute() else base / location
