"""Load the metric catalog: a directory of YAML files (or one file) validated into `Metric`s and `View`s.

Where the catalog comes from: the `path` argument, else the `GNE_CATALOG` environment variable, else the
project config's `catalog` (gne.yaml; the demo config uses the catalog packaged with gnelib, gnelib/metrics/catalog/).
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from gnelib.metrics.errors import CatalogError, UnknownChoiceError
from gnelib.metrics.model import GNE_PILLARS, CatalogFile, Metric, View

PACKAGED_CATALOG = Path(__file__).with_name("catalog")
CATALOG_ENV_VAR = "GNE_CATALOG"
# Set by `gne run` for its kernels: comma-separated metrics that `gne check` found broken on the warehouse. They are
# left out of the loaded catalog, so a report that scans the catalog skips them instead of failing.
UNAVAILABLE_ENV_VAR = "GNE_UNAVAILABLE_METRICS"


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog: metrics by name, views by name, documented dimensions, and where they came from."""

    metrics: dict[str, Metric]
    views: dict[str, View]
    dimensions: dict[str, str]
    files: tuple[Path, ...]
    origin: dict[str, Path] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Metric names, in catalog order."""
        return list(self.metrics)

    def get(self, name: str) -> Metric:
        """The metric called `name`; an unknown name lists the valid ones, closest first."""
        if isinstance(name, Metric):
            return name
        try:
            return self.metrics[name]
        except KeyError:
            raise UnknownChoiceError("metric", name, self.metrics, " See `gne metrics list`.") from None

    def __contains__(self, name: object) -> bool:
        return name in self.metrics

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.metrics.values())

    def __len__(self) -> int:
        return len(self.metrics)

    def by_pillar(self) -> dict[str, list[Metric]]:
        """Metrics by group (pillar): the GNE pillars first in their order (1-4), then other groups in catalog order."""
        groups: dict[str, list[Metric]] = {pillar: [] for pillar in GNE_PILLARS}
        for metric in self:
            groups.setdefault(metric.pillar, []).append(metric)
        return {pillar: metrics for pillar, metrics in groups.items() if metrics}

    def groups(self) -> list[str]:
        """The metric groups, in `by_pillar` order."""
        return list(self.by_pillar())


def catalog_location(path: str | os.PathLike | None = None) -> Path:
    """Resolve where the catalog lives: the argument, else $GNE_CATALOG, else the project config's catalog."""
    if path is not None or os.environ.get(CATALOG_ENV_VAR):
        chosen = path if path is not None else os.environ[CATALOG_ENV_VAR]
    else:
        from gnelib.config import load_project

        chosen = load_project().catalog
    location = Path(chosen).expanduser()
    if not location.exists():
        source = "argument" if path is not None else f"${CATALOG_ENV_VAR}" if os.environ.get(CATALOG_ENV_VAR) \
            else "project config"
        raise CatalogError(
            f"metric catalog {str(location)!r} (from the {source}) does not exist; "
            "pass a directory of YAML files or one YAML file."
        )
    return location


def catalog_files(location: Path) -> list[Path]:
    """The YAML files making up the catalog at `location`, sorted by name."""
    if location.is_file():
        return [location]
    files = sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
    if not files:
        raise CatalogError(f"metric catalog directory {str(location)!r} holds no *.yaml files.")
    return files


_cache: dict[tuple, Catalog] = {}


def load_catalog(path: str | os.PathLike | None = None) -> Catalog:
    """Load and validate the catalog (cached until a file changes). Errors name file, metric and field."""
    files = catalog_files(catalog_location(path))
    key = tuple((str(f.resolve()), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _build(files)
    unavailable = {name for name in os.environ.get(UNAVAILABLE_ENV_VAR, "").split(",") if name}
    return _without(_cache[key], unavailable) if unavailable else _cache[key]


def _without(catalog: Catalog, names: set[str]) -> Catalog:
    """The catalog minus the metrics in `names`."""
    kept = {name: metric for name, metric in catalog.metrics.items() if name not in names}
    return Catalog(kept, catalog.views, catalog.dimensions, catalog.files, catalog.origin)


def _build(files: list[Path]) -> Catalog:
    parsed = [(path, _read_file(path)) for path in files]
    dimensions: dict[str, str] = {}
    views: dict[str, View] = {}
    metrics: dict[str, Metric] = {}
    origin: dict[str, Path] = {}
    for path, content in parsed:
        for name, description in content.dimensions.items():
            if name in dimensions and dimensions[name] != description:
                raise CatalogError(
                    f"{path}: dimension {name!r} is described differently in two files; keep one."
                )
            dimensions[name] = description
        for name, body in content.views.items():
            if name in views:
                raise CatalogError(f"{path}: view {name!r} is defined twice (also in {origin[name]}).")
            views[name] = _view(path, name, body, content.dialect)
            origin[name] = path
    for path, content in parsed:
        for position, raw in enumerate(content.metrics):
            metric = _metric(path, position, raw, content)
            if metric.name in metrics:
                raise CatalogError(
                    f"{path}: metric {metric.name!r}: duplicate name (first defined in "
                    f"{origin[metric.name]}); metric names must be unique across the catalog."
                )
            _check_references(path, metric, dimensions)
            metrics[metric.name] = metric
            origin[metric.name] = path
    return Catalog(metrics=metrics, views=views, dimensions=dimensions, files=tuple(files), origin=origin)


def _read_file(path: Path) -> CatalogFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise CatalogError(
            f"{path}: the top level must be a mapping with keys such as 'metrics' and 'views'."
        )
    try:
        return CatalogFile.model_validate(raw)
    except ValidationError as error:
        raise CatalogError(f"{path}: {_describe(error)}") from None


def _view(path: Path, name: str, body: str | dict, dialect: str) -> View:
    fields = {"sql": body} if isinstance(body, str) else dict(body)
    try:
        return View.model_validate({"name": name, "dialect": dialect, **fields})
    except ValidationError as error:
        raise CatalogError(f"{path}: view {name!r}: {_describe(error)}") from None


def _metric(path: Path, position: int, raw: object, content: CatalogFile) -> Metric:
    if not isinstance(raw, dict):
        raise CatalogError(f"{path}: metric #{position + 1}: expected a mapping of fields, got {raw!r}.")
    label = f"metric {raw['name']!r}" if isinstance(raw.get("name"), str) else f"metric #{position + 1}"
    try:
        return Metric.model_validate({**content.defaults, **raw, "dialect": content.dialect})
    except ValidationError as error:
        raise CatalogError(f"{path}: {label}: {_describe(error)}") from None


def _check_references(path: Path, metric: Metric, dimensions: dict[str, str]) -> None:
    for name in metric.dimensions:
        if name not in dimensions:
            raise CatalogError(
                f"{path}: metric {metric.name!r}: field 'dimensions': "
                f"{UnknownChoiceError('dimension', name, dimensions)} "
                "Declare new dimensions under a top-level 'dimensions:' mapping."
            )


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            problems.append(f"field '{location}' is missing")
        elif location:
            problems.append(f"field '{location}': {message}")
        else:
            problems.append(message)
    return "; ".join(problems)
