"""The project config (`gne.yaml`): where the data is, which catalog describes it, the report grain, the calendar,
the completeness check and the optional experiments source. Everything below it reads the warehouse through it.

Which file: the `path` argument, else $GNE_CONFIG, else `gne.yaml` in the current directory or a parent, else
the demo warehouse's config packaged with gnelib. $GNE_WAREHOUSE and $GNE_CATALOG override `source` and `catalog`.
Relative paths in a config file are relative to the file's directory (in the packaged demo config: to the
current directory).
"""

import os
import re
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
# The password of a URL's user (scheme://user:PASSWORD@host) and a libpq `password=` option.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s@]*@")
_PASSWORD_OPTION = re.compile(r"(?P<head>[?&]password=)[^&\s]*", re.IGNORECASE)


def mask_url(text: str) -> str:
    """`text` with every connection URL's password replaced by `***` (`postgresql://gne:***@host/db`, also a
    `?password=` option): the form in which a warehouse URL is ever printed, logged or written to a report."""
    return _PASSWORD_OPTION.sub(r"\g<head>***", _URL_PASSWORD.sub(r"\g<head>:***@", text))


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


class Policies(BaseModel):
    """Where policy launches are: one row per policy × market (policy, metric, market, launch_date)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    launches: str = Field(pattern=QUALIFIED)


class SmtpServer(BaseModel):
    """An SMTP server; the password is read from the environment variable `password_env`, never from the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_s: float = Field(default=30, gt=0)


class EmailChannel(BaseModel):
    """Alert e-mails (multipart HTML + text): who sends, through which server, to whom (all routed findings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    smtp: SmtpServer
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[str] = []


class WebhookChannel(BaseModel):
    """A Slack-compatible chat webhook: `url`, or `url_env` naming the environment variable that holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str | None = Field(default=None, pattern=r"^https?://")
    url_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_s: float = Field(default=15, gt=0)

    @model_validator(mode="after")
    def _one_url(self) -> "WebhookChannel":
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give either `url:` (https://hooks.slack.com/...) or `url_env:` (a variable holding it)")
        return self


class AlertRoute(BaseModel):
    """Findings of one pillar (group) or owner of the catalog, sent to extra e-mail addresses and/or a webhook."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pillar: str | None = None
    owner: str | None = None
    email: list[str] = []
    webhook: str | None = Field(default=None, pattern=r"^https?://")

    @model_validator(mode="after")
    def _complete(self) -> "AlertRoute":
        if self.pillar is None and self.owner is None:
            raise ValueError("a route needs `pillar:` or `owner:` (as in the catalog, `gne metrics list`)")
        if not self.email and self.webhook is None:
            raise ValueError("a route needs `email:` (a list of addresses) or `webhook:` (a URL)")
        return self


class QuietHours(BaseModel):
    """No alert is sent between `start` and `end` (HH:MM, may wrap midnight) in `time_zone`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    time_zone: str = "UTC"

    _zone = field_validator("time_zone")(Calendar._known_zone.__func__)


class Alerts(BaseModel):
    """Optional `alerts:` section: after each `gne run`, the digest's findings by e-mail and/or chat webhook."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None
    routes: list[AlertRoute] = []
    only: Literal["bad", "all"] = "bad"  # bad: alert on worse-than-usual findings only
    quiet_hours: QuietHours | None = None
    retries: int = Field(default=2, ge=0, le=10)  # further attempts after a failed delivery
    retry_delay_s: float = Field(default=10, ge=0, le=600)
    base_url: str = ""  # where reports/ is published (https://...), for absolute links in messages

    @model_validator(mode="after")
    def _channels(self) -> "Alerts":
        if self.email is None and self.webhook is None and not any(route.webhook for route in self.routes):
            raise ValueError("no channel: add `email:` (smtp, sender, to) and/or `webhook:` (url)")
        if self.email is None and any(route.email for route in self.routes):
            raise ValueError("a route sends e-mail but there is no `email:` channel (smtp server and sender)")
        return self


class ProjectConfig(BaseModel):
    """The validated content of gne.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str = Field(min_length=1)
    catalog: str = PACKAGED_CATALOG_NAME
    grain: str = Field(default="market", pattern=IDENTIFIER)
    calendar: Calendar
    completeness: Completeness
    experiments: Experiments | None = None
    policies: Policies | None = None
    metadata: str | None = None  # optional SQL returning key/value rows shown by `gne warehouse info`
    alerts: Alerts | None = None  # optional: e-mail / chat alerts after each run (gnelib.reporting.alerts)

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
    def policies(self) -> Policies | None:
        return self.settings.policies

    @property
    def origin(self) -> str:
        """Where the config came from, for messages."""
        return str(self.file) if self.file is not None else f"the packaged demo config ({PACKAGED_CONFIG.name})"


def grain_label(grain: str, plural: bool = False) -> str:
    """The report grain in words, as pages name it: `market`, `region`, `customer state`; `plural`: `regions`,
    `countries`, `branches`."""
    words = grain.replace("_", " ")
    if not plural:
        return words
    if words.endswith(("s", "x", "z", "ch", "sh")):
        return f"{words}es"
    if words.endswith("y") and words[-2:-1] not in ("a", "e", "i", "o", "u"):
        return f"{words[:-1]}ies"
    return f"{words}s"


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
