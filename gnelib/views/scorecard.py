"""What the weekly scorecard shows: every catalog metric for a market and week, grouped by pillar, with the notable
changes explained."""

from dataclasses import dataclass, field

import pandas as pd

from gnelib import metrics
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.detection import TOTAL, findings, grain_of, scan
from gnelib.analysis.errors import AnalysisError
from gnelib.analysis.headlines import compared_weeks, comparison_words, finding_size, in_page_unit
from gnelib.analysis.insights import Insight, week_label
from gnelib.formats import format_change, format_p_value, format_value
from gnelib.periods import shift_week
from gnelib.viz.charts import sparkline
from gnelib.viz.tables import change_tone, html_table

PILLARS = {
    "malicious_sellers": "Malicious sellers eliminated",
    "listing_compliance": "Listings policy compliant",
    "authentic_products": "Authentic products, as expected",
    "make_it_right": "Make it right: refunds, returns, disputes",
    "creators": "Creators: live and short-video affiliates",
    "experience": "Buyer and seller experience",
}
TREND_WEEKS = 13
EXPLAINED_LIMIT = 4
BREACHES = ("above alert", "below alert", "above warning", "below warning")
"""Threshold statuses the key insights always mention, flagged or not."""


@dataclass
class Scorecard:
    """The scan of every metric for one market and week, and the insights of the notable ones.

    `rows`: one row per metric — the market total's scan row, with `flag`, `verdict`, `p_adjusted` and the numbers
    of the market's finding (its total, or its strongest segment when only a segment moved)."""

    market: str
    week: str
    rows: pd.DataFrame
    trends: dict[str, pd.DataFrame]
    insights: list[Insight] = field(default_factory=list)

    @property
    def notable(self) -> pd.DataFrame:
        """Metrics with a flagged change (in the market or in one of its segments), most significant first."""
        return self.rows[self.rows["flag"]].sort_values("p_adjusted")


def build_scorecard(conn, market: str, week: str) -> Scorecard:
    """Scan every metric (the family is every market, so each cell gets the same answer as in the all-market
    scan), keep `market`, fetch 13-week trends, and deep-dive the notable bad moves."""
    rows = _market_rows(scan(conn, week, markets=[market]))
    catalog = metrics.load_catalog()
    rows = rows.assign(
        pillar=[catalog.get(name).pillar for name in rows["metric"]],
        title=[catalog.get(name).title for name in rows["metric"]],
        threshold_status=[_threshold_status(catalog.get(n), v) for n, v in zip(rows["metric"], rows["current"],
                                                                                strict=True)],
    )
    trends = {
        row.metric: metrics.compute(
            conn, row.metric, weeks=(shift_week(row.read_week, 1 - TREND_WEEKS), row.read_week),
            where={grain_of(conn): market},
            horizon_days=None if pd.isna(row.horizon_days) else int(row.horizon_days),
        )
        for row in rows.itertuples()
    }
    insights = []
    flagged = rows[rows["flag"]].sort_values("p_adjusted")
    explained = flagged[(flagged["verdict"] != "good") & (flagged["level"] == "market")].head(EXPLAINED_LIMIT)
    unexplained = flagged.drop(explained.index)
    for index, row in explained.iterrows():
        try:
            found = deep_dive(conn, in_page_unit(catalog.get(row["metric"])), market, week).insights
        except AnalysisError:  # no segment data to explain it: the scan row's own sentence still stands
            unexplained = pd.concat([unexplained, flagged.loc[[index]]])
            continue
        insights.extend(i for i in found if i.kind not in ("no_change", "maturity"))
    for _, row in unexplained.iterrows():
        insights.append(_finding_insight(in_page_unit(catalog.get(row["metric"])), row, market))
    for _, row in rows[~rows["flag"] & rows["threshold_status"].isin(BREACHES)].iterrows():
        insights.append(_threshold_insight(in_page_unit(catalog.get(row["metric"])), row, market))
    insights.sort(key=lambda insight: insight.score, reverse=True)
    return Scorecard(market, week, rows, trends, insights)


def groups() -> dict[str, str]:
    """{group: heading} of the catalog's metric groups in order: the GNE pillars' headings, else the group's name."""
    return {group: PILLARS.get(group, group.replace("_", " ").capitalize())
            for group in metrics.load_catalog().by_pillar()}


def pillar_table(card: Scorecard, pillar: str, deep_dives: dict[str, str] | None = None) -> str:
    """One pillar's metrics, important columns first: value, change, confidence and status, then the context (the
    usual level, a 13-week sparkline); with
    `deep_dives` ({metric: trusted link HTML}, e.g. `gnelib.reporting.flagged.deep_dive_anchors`) a "Deep dive"
    column links each flagged metric to its report."""
    rows = card.rows[card.rows["pillar"] == pillar].sort_values("title")
    if rows.empty:
        return "<p>No metrics in this pillar.</p>"
    catalog = metrics.load_catalog()
    definitions = [in_page_unit(catalog.get(name)) for name in rows["metric"]]
    tones = [
        change_tone(pd.Series([delta]), d.direction, pd.Series([bool(sig)])).iloc[0]
        for d, delta, sig in zip(definitions, rows["abs_change"], rows["flag"], strict=True)
    ]
    table = pd.DataFrame({
        "Metric": rows["title"].to_numpy(),
        "Value": [format_value(v, d.format) for v, d in zip(rows["current"], definitions, strict=True)],
        "Change": [format_change(v, d.format) for v, d in zip(rows["abs_change"], definitions, strict=True)],
        "Confidence": [format_p_value(p) for p in rows["p_adjusted"]],
        "Status": [_status_text(r) for _, r in rows.iterrows()],
        "Usual level": [format_value(v, d.format) for v, d in zip(rows["baseline"], definitions, strict=True)],
        "Trend (13 weeks)": [sparkline(card.trends[name]["value"], tone=_palette(t))
                             for name, t in zip(rows["metric"], tones, strict=True)],
    })
    trusted = ["Trend (13 weeks)"]
    if deep_dives:
        table["Deep dive"] = [deep_dives.get(name, "") for name in rows["metric"]]
        trusted.append("Deep dive")
    tone = pd.Series(tones, index=table.index)
    return html_table(table, tone={"Change": tone}, trusted_html=tuple(trusted))


def _threshold_status(definition, value: float) -> str:
    thresholds = definition.thresholds
    if thresholds is None or value != value:
        return ""
    worse = (lambda limit: value > limit) if definition.direction != "higher_is_better" else (lambda lim: value < lim)
    if thresholds.alert is not None and worse(thresholds.alert):
        return "above alert" if definition.direction != "higher_is_better" else "below alert"
    if thresholds.warn is not None and worse(thresholds.warn):
        return "above warning" if definition.direction != "higher_is_better" else "below warning"
    return "within target"


def _status_text(row: pd.Series) -> str:
    parts = [row["threshold_status"]] if row["threshold_status"] else []
    if row["flag"]:
        parts.append(_flag_words(row))
    horizon = row.get("horizon_days")
    moved = row["read_week"] != row["week"]
    if moved or (horizon == horizon and horizon):
        where = f"read in {row['read_week']}" if moved else "maturing"
        at = f" at a {int(horizon)}-day horizon" if horizon == horizon and horizon else ""
        parts.append(where + at)
    elif not row["is_mature"]:
        parts.append("maturing")
    return ", ".join(parts) or "–"


def _flag_words(row: pd.Series) -> str:
    """"still elevated, 2nd week", "rising for 4 weeks", "in live only"…: what the flag is about."""
    moved = "elevated" if row["abs_change"] > 0 else "low"
    if row["comparison"] == "window":
        weeks = int(row["window_weeks"])
        words = f"{'rising' if row['abs_change'] > 0 else 'falling'} for {weeks} weeks (value: {weeks}-week average)"
    elif row["pattern"] == "sustained":
        words = f"still {moved}, week {int(row['weeks_running'])}"
    else:
        words = f"unusually {'high' if row['abs_change'] > 0 else 'low'}"
    if row["level"] == "segment":
        words += f" in {row['dimension'].replace('_', ' ')} {row['segment']}"
    return words


def _palette(tone: str) -> str:
    return {"bad": "bad", "good": "good"}.get(tone, "primary")


def _market_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per metric: the total's scan row, replaced by the market's finding where one was flagged."""
    totals = table[table["dimension"] == TOTAL].set_index("metric")
    found = findings(table).set_index("metric")
    rows = totals.assign(level="market", segments=[[] for _ in range(len(totals))])
    for name in found.index.intersection(rows.index):
        rows.loc[name, found.columns] = found.loc[name]
    return rows.reset_index()


def _threshold_insight(definition, row: pd.Series, market: str) -> Insight:
    """A metric past its warning or alert level that the scan does not flag: the level, and that it is usual."""
    status = row["threshold_status"]
    level = definition.thresholds.alert if status.endswith("alert") else definition.thresholds.warn
    fmt = definition.format
    text = (
        f"{definition.title} in {market} is {status.split()[0]} its {status.split()[1]} level in "
        f"{week_label(row['read_week'])}: {format_value(row['current'], fmt)} against "
        f"{format_value(level, fmt)}. The scan does not flag it: its usual level is "
        f"{format_value(row['baseline'], fmt)} ({compared_weeks(row)}; {format_change(row['abs_change'], fmt)}, "
        f"{format_p_value(row['p_adjusted'])})."
    )
    alert = status.endswith("alert")
    return Insight("threshold", text, definition.name, "bad", "low", "warn" if alert else "info",
                   1.5 if alert else 1.2, market)


def _finding_insight(definition, row: pd.Series, market: str) -> Insight:
    """The sentence of a flagged scan row: its verdict, numbers and p-value, and where it sits."""
    verb = "rose" if row["abs_change"] > 0 else "fell"
    where = market if row["level"] == "market" else f"{market}, {row['dimension'].replace('_', ' ')} {row['segment']}"
    words = {"good": ": an improvement", "bad": ""}.get(row["verdict"], "")
    size = finding_size(row, definition)
    text = (
        f"{definition.title} in {where} {verb} from {format_value(row['baseline'], definition.format)} to "
        f"{format_value(row['current'], definition.format)} {comparison_words(row)} "
        f"({format_change(row['abs_change'], definition.format)}, {format_p_value(row['p_adjusted'])})"
        f"{'; ' + size if size else ''}{words}."
    )
    severity = "warn" if row["verdict"] == "bad" else "info"
    return Insight("change", text, definition.name, row["verdict"], "high" if row["p_adjusted"] < 0.001 else
                   "medium", severity, 2.0 if row["verdict"] == "bad" else 1.0, market)
