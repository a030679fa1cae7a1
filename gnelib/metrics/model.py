"""Pydantic models of a catalog file: dimensions, views and metric definitions.

SQL fragments are parsed with sqlglot while the model validates, so a typo in a numerator fails when the
catalog loads (naming the metric and field), not when a notebook runs.
"""

import re
from typing import Literal, get_args

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlglot import exp

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
QUALIFIED_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$"
SNAKE_NAME = r"^[a-z][a-z0-9_]*$"

# The four GNE pillars: the packaged catalog's groups, listed first and in this order. Other catalogs name their
# own groups (any snake_case name, written `group:` or `pillar:`).
Pillar = Literal["malicious_sellers", "listing_compliance", "authentic_products", "make_it_right"]
GNE_PILLARS: tuple[str, ...] = get_args(Pillar)
Kind = Literal["ratio", "count", "sum", "duration"]
Direction = Literal["lower_is_better", "higher_is_better", "neutral"]
# How values are written: see gnelib/formats.py. `currency` takes the metric's `currency` code (default USD);
# a duration metric is written in `hours` or `days`.
FORMATS = ("percent", "per_1k", "per_1m", "hours", "days", "currency", "count")
FORMAT_PATTERN = r"^(percent|per_1k|per_1m|hours|days|count|currency(:[A-Z]{3})?)$"
DURATION_FORMATS = ("hours", "days")
STATISTIC_PATTERN = r"^(median|mean|p([1-9]|[1-9][0-9]))$"

# Columns of the metric frame; a dimension may not shadow them.
FRAME_COLUMNS = frozenset(
    {
        "metric",
        "period",
        "period_start",
        "numerator",
        "denominator",
        "value",
        "units",
        "sum_x2",
        "sum_y2",
        "sum_xy",
        "is_mature",
        "unit_id",
        "x",
        "y",
    }
)


def parse_sql(text: str, dialect: str) -> exp.Expression:
    """Parse one SQL expression (not a statement); raise ValueError with sqlglot's reason."""
    try:
        parsed = sqlglot.parse_one(f"SELECT {text}", read=dialect)
    except sqlglot.errors.ParseError as error:
        raise ValueError(f"SQL does not parse ({_reason(error)})") from None
    has_from = any(isinstance(value, exp.From) for value in parsed.args.values())
    if not isinstance(parsed, exp.Select) or len(parsed.expressions) != 1 or has_from:
        raise ValueError(f"expected one SQL expression, got {text!r}")
    return parsed.expressions[0]


def parse_query(text: str, dialect: str) -> exp.Query:
    """Parse a SELECT query (a view body); raise ValueError with sqlglot's reason."""
    try:
        parsed = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError as error:
        raise ValueError(f"SQL does not parse ({_reason(error)})") from None
    if not isinstance(parsed, exp.Query):
        raise ValueError("a view must be a SELECT query")
    return parsed


def _reason(error: sqlglot.errors.ParseError) -> str:
    return error.errors[0]["description"] if error.errors else str(error)


class Thresholds(BaseModel):
    """Levels at which a report warns or alerts (in the metric's own units, e.g. 0.04 for 4%)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    warn: float | None = None
    alert: float | None = None


class Duration(BaseModel):
    """A duration metric's clock: hours from `start` to `end` (both timestamp columns of the source), summarised
    per period by `statistic`: `median` (default), `mean`, or a percentile `p90` (any p1 … p99)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str = Field(pattern=IDENTIFIER)
    end: str = Field(pattern=IDENTIFIER)
    statistic: str = Field(default="median", pattern=STATISTIC_PATTERN)

    @property
    def quantile(self) -> float | None:
        """The percentile as a fraction (median: 0.5), or None for the mean."""
        if self.statistic == "mean":
            return None
        return 0.5 if self.statistic == "median" else int(self.statistic[1:]) / 100


class Metric(BaseModel):
    """One metric definition: what is counted, from where, how it may be split and read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=SNAKE_NAME)
    title: str = Field(min_length=1)
    description: str = Field(min_length=10)
    pillar: str = Field(pattern=SNAKE_NAME)  # the metric's group (the GNE pillars in the packaged catalog)
    owner: str = Field(min_length=1)
    source: str = Field(pattern=QUALIFIED_IDENTIFIER)
    time_column: str = Field(pattern=IDENTIFIER)
    kind: Kind
    numerator: str | None = None
    denominator: str | None = None
    duration: Duration | None = None
    filters: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    direction: Direction
    format: str = Field(pattern=FORMAT_PATTERN)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")  # ISO 4217 code of a `currency` metric
    unit: str = Field(pattern=SNAKE_NAME)  # what one unit of analysis is: order, seller, listing, store, ...
    unit_column: str = Field(pattern=IDENTIFIER)
    thresholds: Thresholds | None = None
    maturity_days: int = Field(default=0, ge=0)
    event_time_column: str | None = Field(default=None, pattern=IDENTIFIER)
    dialect: str = "duckdb"

    @field_validator("dimensions")
    @classmethod
    def _dimension_names(cls, dimensions: tuple[str, ...]) -> tuple[str, ...]:
        for name in dimensions:
            if not re.match(IDENTIFIER, name):
                raise ValueError(f"dimension {name!r} is not a plain column name")
            if name in FRAME_COLUMNS:
                raise ValueError(f"dimension {name!r} clashes with a metric-frame column")
        if len(set(dimensions)) != len(dimensions):
            raise ValueError("a dimension is listed twice")
        return dimensions

    @model_validator(mode="after")
    def _kind_fields(self) -> "Metric":
        needs = {
            "ratio": ("numerator", "denominator"),
            "count": ("numerator",),
            "sum": ("numerator",),
            "duration": ("duration",),
        }[self.kind]
        for field in ("numerator", "denominator", "duration"):
            present = getattr(self, field) is not None
            if field in needs and not present:
                raise ValueError(f"field '{field}' is required for kind '{self.kind}'")
            if field not in needs and present:
                raise ValueError(f"field '{field}' is not used by kind '{self.kind}'; remove it")
        if (self.kind == "duration") != (self.format in DURATION_FORMATS):
            raise ValueError("formats 'hours' and 'days' go with kind 'duration' and only with it")
        if self.currency is not None and not self.format.startswith("currency"):
            raise ValueError("field 'currency' is only used with format 'currency'")
        return self

    @model_validator(mode="before")
    @classmethod
    def _group_and_currency(cls, data: object) -> object:
        """`group:` is another name for `pillar:`; `format: currency` + `currency: IDR` → format `currency:IDR`."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "group" in data:
            if "pillar" in data and data["pillar"] != data["group"]:
                raise ValueError("give the metric's group once, as `group:` (or `pillar:`)")
            data["pillar"] = data.pop("group")
        if data.get("format") == "currency" and isinstance(data.get("currency"), str):
            data["format"] = f"currency:{data['currency']}"
        return data

    @property
    def group(self) -> str:
        """The metric's group (its pillar in the GNE catalog)."""
        return self.pillar

    @model_validator(mode="before")
    @classmethod
    def _default_unit_column(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("unit_column") is None and isinstance(data.get("unit"), str):
            return {**data, "unit_column": f"{data['unit']}_id"}
        return data

    @model_validator(mode="after")
    def _sql_parses(self) -> "Metric":
        for field in ("numerator", "denominator"):
            text = getattr(self, field)
            if text is None:
                continue
            try:
                parsed = parse_sql(text, self.dialect)
            except ValueError as error:
                raise ValueError(f"field '{field}': {error}") from None
            if not isinstance(parsed, exp.AggFunc) and not parsed.find(exp.AggFunc):
                raise ValueError(
                    f"field '{field}' must be an aggregate such as COUNT(*) or SUM(...), got {text!r}"
                )
        for position, text in enumerate(self.filters):
            try:
                parsed = parse_sql(text, self.dialect)
            except ValueError as error:
                raise ValueError(f"field 'filters[{position}]': {error}") from None
            if parsed.find(exp.AggFunc):
                raise ValueError(
                    f"field 'filters[{position}]' is a row condition and may not aggregate: {text!r}"
                )
        return self

    def expression(self, field: str) -> exp.Expression:
        """The parsed SQL of `numerator`, `denominator` (or one filter, by index) in the catalog dialect."""
        return parse_sql(getattr(self, field), self.dialect)

    def filter_expressions(self) -> list[exp.Expression]:
        """The parsed row filters."""
        return [parse_sql(text, self.dialect) for text in self.filters]


class View(BaseModel):
    """A named query a metric can use as its `source` (inlined as a CTE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=IDENTIFIER)
    sql: str
    description: str = ""
    dialect: str = "duckdb"
    # True when every LEFT JOIN in the view matches at most one row per row of its first table (e.g. one
    # after-sales request and one review per order): a query then leaves out the joins whose columns it does
    # not use, so order-only metrics do not pay for the after-sales and review joins.
    to_one_joins: bool = False

    @model_validator(mode="after")
    def _sql_parses(self) -> "View":
        try:
            parse_query(self.sql, self.dialect)
        except ValueError as error:
            raise ValueError(f"field 'sql': {error}") from None
        return self

    def query(self) -> exp.Query:
        """The parsed view body."""
        return parse_query(self.sql, self.dialect)


class CatalogFile(BaseModel):
    """The top level of one catalog YAML file."""

    model_config = ConfigDict(extra="forbid")
    dialect: str = "duckdb"
    dimensions: dict[str, str] = {}
    views: dict[str, str | dict] = {}
    defaults: dict = {}
    metrics: list[dict] = []

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, dialect: str) -> str:
        from sqlglot.dialects.dialect import Dialect

        try:
            Dialect.get_or_raise(dialect)
        except ValueError as error:
            raise ValueError(f"unknown SQL dialect {dialect!r} ({error})") from None
        return dialect
