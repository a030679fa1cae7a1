"""Render the catalog as Markdown (docs/metrics.md is generated from it: `gne metrics docs`)."""

from gnelib.metrics.catalog import Catalog
from gnelib.metrics.model import Metric

PILLAR_TITLES = {
    "malicious_sellers": "Malicious sellers eliminated",
    "listing_compliance": "Listings policy compliant",
    "authentic_products": "Authentic products in the expected condition",
    "make_it_right": "Make it right",
    "creators": "Creators: live and short-video affiliates",
    "experience": "Buyer and seller experience",
}
HEADER = """# Metric catalog

<!-- Generated from gnelib/metrics/catalog/*.yaml by `gne metrics docs`; do not edit by hand. -->

Every metric is defined once in the YAML catalog and compiled to SQL by `gnelib.metrics` (see
[metric-frames.md](metric-frames.md) for what `metrics.compute` returns). Print any metric's SQL with
`gne metrics sql NAME [--by market] [--where market=ID] [--dialect duckdb|spark|postgres|trino]`.

Ratios are computed per period × segment as Σ numerator / Σ denominator; variances are clustered by the
*unit* (the delta method over units). *Matures after* is how many days after a period ends its late-arriving
events (claims, reviews, refunds) are complete; younger periods are flagged `is_mature = False`.
A *fixed-horizon event* column lets `compute(..., horizon_days=N)` count an event only when it happened within
N days of the period's time column, so young and old periods compare like with like.

## Writing a catalog (bring your own warehouse)

A catalog is a directory of YAML files (name it in gne.yaml's `catalog`, or point `GNE_CATALOG`,
`load_catalog(path)` or `--catalog` at it).
Each file may hold `dialect` (the SQL dialect its snippets are written in, default `duckdb`), `dimensions`
(name → meaning; a metric may only list declared dimensions), `views` (name → SQL, or `{sql, description}`;
a metric's `source` may be a table or a view), `defaults` (fields merged into every metric of the file) and
`metrics`. A metric has `name, title, description, group` (or `pillar`: any snake_case name; the GNE pillars
are this catalog's groups), `owner, source, time_column, kind` (`ratio`, `count`, `sum`, `duration`),
`numerator` / `denominator` (SQL aggregates, e.g. `COUNT_IF(refunded)`) or for durations
`duration: {start, end, statistic}` (timestamp columns; `statistic` `median` by default, `mean`, or a
percentile such as `p90`), optional `filters` (SQL row conditions), `dimensions, direction, format`
(`percent`, `per_1k`, `per_1m`, `count`, `currency` with an optional `currency: IDR` code (default USD), and
for durations `hours` or `days`), `unit` (what one unit of analysis is: `order`, `seller`, `store`, ...) with
`unit_column` (default `<unit>_id`), optional `thresholds: {warn, alert}`, `maturity_days` and
`event_time_column`. Loading checks every field and parses every SQL snippet; errors name the file, the metric
and the field.
"""


def render_markdown(catalog: Catalog) -> str:
    """The whole catalog as one Markdown page: an index, then one section per metric, then views."""
    lines = [
        HEADER,
        "## Index",
        "",
        "| pillar | metric | kind | direction | unit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for pillar, metrics in catalog.by_pillar().items():
        for metric in metrics:
            lines.append(
                f"| {PILLAR_TITLES.get(pillar, pillar)} | [`{metric.name}`](#{metric.name}) | "
                f"{metric.kind} | {metric.direction.replace('_', ' ')} | {metric.unit} |"
            )
    for pillar, metrics in catalog.by_pillar().items():
        lines += ["", f"## {PILLAR_TITLES.get(pillar, pillar)}"]
        for metric in metrics:
            lines += ["", *_metric_section(metric)]
    lines += ["", "## Dimensions", "", "| dimension | meaning |", "| --- | --- |"]
    lines += [f"| `{name}` | {text} |" for name, text in catalog.dimensions.items()]
    lines += [
        "",
        "## Views",
        "",
        "A metric's `source` is a warehouse table or one of these views (inlined as a CTE).",
    ]
    for view in catalog.views.values():
        lines += ["", f"### `{view.name}`", "", view.description or "", "", "```sql", view.sql.strip(), "```"]
    return "\n".join(lines).rstrip() + "\n"


def _metric_section(metric: Metric) -> list[str]:
    rows = [
        ("kind", metric.kind),
        ("owner", metric.owner),
        ("source", f"`{metric.source}`"),
        ("period by", f"`{metric.time_column}`"),
        ("unit", f"{metric.unit} (`{metric.unit_column}`)"),
        ("direction", metric.direction.replace("_", " ")),
        ("format", metric.format),
    ]
    if metric.kind == "duration":
        statistic = "" if metric.duration.statistic == "median" else f" ({metric.duration.statistic})"
        rows.append(("hours", f"`{metric.duration.start}` → `{metric.duration.end}`{statistic}"))
    else:
        rows.append(("numerator", f"`{_one_line(metric.numerator)}`"))
        if metric.denominator:
            rows.append(("denominator", f"`{_one_line(metric.denominator)}`"))
    if metric.filters:
        rows.append(("filters", " AND ".join(f"`{_one_line(text)}`" for text in metric.filters)))
    rows.append(("dimensions", ", ".join(f"`{name}`" for name in metric.dimensions) or "—"))
    rows.append(("matures after", f"{metric.maturity_days} days"))
    if metric.event_time_column:
        rows.append(("fixed-horizon event", f"`{metric.event_time_column}`"))
    if metric.thresholds:
        levels = [
            f"{key} {value:g}" for key, value in metric.thresholds.model_dump().items() if value is not None
        ]
        rows.append(("thresholds", ", ".join(levels)))
    table = ["| field | value |", "| --- | --- |", *[f"| {key} | {value} |" for key, value in rows]]
    return [f"### {metric.name}", "", f"**{metric.title}.** {metric.description.strip()}", "", *table]


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
