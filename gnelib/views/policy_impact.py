"""Policy impact without randomisation: for each policy in the config's policy-launch table, the effect on the
catalog metric it targets, from weekly market-level values of that metric.

A policy launched in two or more markets is read with Callaway–Sant'Anna staggered difference-in-differences
(`gnelib.analysis.did`); a single-market launch with synthetic control (`gnelib.analysis.synthetic_control`).
Only mature weeks up to the report week are used. The page states the effect in words first, or, when the design
does not hold (pre-launch trends differ, the synthetic market does not track the real one, too few control
markets), says so instead of quoting a number.
"""

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from gnelib import metrics
from gnelib.analysis.did import PLACEBO_SHIFT, Estimate, StaggeredDid, callaway_santanna, placebo_launches
from gnelib.analysis.synthetic_control import SyntheticControl, synthetic_control
from gnelib.analysis.value import Assumptions, MoneyValue, RateChange, money_value
from gnelib.config import load_project
from gnelib.errors import GneError
from gnelib.formats import axis_formatter, format_p_value
from gnelib.metrics.compiler import compile_rows
from gnelib.reporting.errors import choices_hint
from gnelib.viz.charts import plain_text
from gnelib.viz.theme import PALETTE

ALPHA = 0.05
LAUNCH_COLUMNS = ("policy", "metric", "market", "launch_date")
VERDICTS = {True: "passed", False: "failed", None: "for information"}
CHECK_COLUMNS = {"check": ("check", None), "result": ("result", None), "verdict": ("verdict", None)}


class PolicyError(GneError):
    """No policy-launch source in the project config, or an unknown policy."""


@dataclass
class Impact:
    """One policy's estimated effect, how it was estimated, and whether the design holds."""

    policy: str
    metric: metrics.Metric
    launches: dict[str, str]  # market → launch week
    panel: pd.DataFrame  # market, period_start, week, t, first_treated, value, denominator
    did: StaggeredDid | None = None
    placebo: Estimate | None = None
    synthetic: SyntheticControl | None = None
    problems: list[str] = field(default_factory=list)  # why the design does not hold (empty when it does)

    @property
    def estimated(self) -> bool:
        return self.did is not None or self.synthetic is not None

    @property
    def method(self) -> str:
        if self.did is not None:
            return "staggered difference-in-differences"
        return "synthetic control" if self.synthetic is not None else "no estimate"

    @property
    def effect(self) -> tuple[float, float, float]:
        """Absolute effect on the metric (a fraction for rates) with its (1 − ALPHA) interval."""
        if self.did is not None:
            return self.did.overall.value, self.did.overall.low, self.did.overall.high
        return self.synthetic.effect, self.synthetic.low, self.synthetic.high

    @property
    def counterfactual_level(self) -> float:
        """The launched markets' mean level after launch had the policy not been launched (observed − effect)."""
        post = self.panel[self.panel["t"] >= self.panel["first_treated"]]
        return float(post["value"].mean() - self.effect[0])

    @property
    def significant(self) -> bool:
        _, low, high = self.effect
        return low > 0 or high < 0


def _source() -> str:
    policies = load_project().policies
    if policies is None:
        raise PolicyError(
            "The project config names no policy launches: add `policies: {launches: TABLE}` to "
            "gne.yaml (one row per policy × market: policy, metric, market, launch_date)."
        )
    return policies.launches


def load_launches(conn) -> pd.DataFrame:
    """One row per policy × market: policy, metric, market, launch_date."""
    compiled = compile_rows(
        _source(), LAUNCH_COLUMNS, order_by=["policy", "launch_date", "market"], dialect=conn.dialect
    )
    launches = conn.sql(compiled.sql, compiled.params)
    launches["launch_date"] = pd.to_datetime(launches["launch_date"])
    return launches


def policy_names(conn) -> list[str]:
    return list(dict.fromkeys(load_launches(conn)["policy"]))


def impact(conn, policy: str, week: str) -> Impact:
    """Estimate `policy`'s effect on its metric from the mature weeks up to `week`."""
    launches = load_launches(conn)
    rows = launches[launches["policy"] == policy]
    if rows.empty:
        raise PolicyError(f"Policy {policy!r} is not in {_source()}; {choices_hint(policy, policy_names(conn))}.")
    metric = metrics.get(rows["metric"].iloc[0])
    frame = metrics.compute(conn, metric.name, by=["market"])
    frame = frame[frame["is_mature"] & (frame["period"] <= week)]
    return estimate(policy, metric, frame, rows)


def estimate(policy: str, metric: metrics.Metric, frame: pd.DataFrame, launches: pd.DataFrame) -> Impact:
    """The effect from a weekly metric frame by market (mature weeks) and the policy's launch rows (market,
    launch_date): staggered DiD for two or more markets, synthetic control for one. When no estimate is possible
    (a launch without two mature weeks before it and one after, no market to compare with) the Impact carries
    only the reason in `problems`."""
    frame = frame.copy()
    weeks = sorted(frame["period_start"].unique())
    frame["t"] = frame["period_start"].map({start: position for position, start in enumerate(weeks)})
    launch_t = {row.market: _launch_period(row, weeks) for row in launches.itertuples()}
    frame["first_treated"] = frame["market"].map(launch_t).astype(float)
    frame = frame[frame.groupby("market")["t"].transform("size") == len(weeks)]  # markets with every week
    labels = frame.drop_duplicates("t").set_index("t")["period"]
    result = Impact(policy, metric, {market: labels.get(t, "") for market, t in launch_t.items()}, frame)
    unusable = [
        f"{row.market} launched on {row.launch_date:%Y-%m-%d}"
        for row in launches.itertuples()
        if not 2 <= launch_t[row.market] < len(weeks)
    ]
    if unusable:
        result.problems = [
            f"{', '.join(unusable)}, but the effect needs at least two mature weeks of "
            f"{metric.title.lower()} before a launch and one after it"
        ]
        return result
    options = {"unit": "market", "period": "t", "outcome": "value"}
    try:
        if len(launch_t) >= 2:
            result.did = callaway_santanna(frame, first_treated="first_treated", alpha=ALPHA, **options)
            result.placebo = placebo_launches(frame, first_treated="first_treated", **options)
            result.problems = _did_problems(result.did, result.placebo)
        else:
            market, period = next(iter(launch_t.items()))
            result.synthetic = synthetic_control(frame, treated=market, launch=period, alpha=ALPHA, **options)
            result.problems = _synthetic_problems(result.synthetic)
    except ValueError as error:  # nothing to compare with: every market launched at once
        result.did = result.placebo = result.synthetic = None
        result.problems = [f"too few control markets: {error}"]
    return result


def _launch_period(row, weeks: list) -> int:
    """The launch week's position among the mature weeks (len(weeks) when it is after the last one)."""
    return int(np.searchsorted(np.array(weeks, dtype="datetime64[ns]"), np.datetime64(row.launch_date, "ns")))


def _did_problems(did: StaggeredDid, placebo: Estimate) -> list[str]:
    problems = []
    if did.too_few_controls:
        problems.append(
            f"too few control markets: some launch weeks are compared with only {did.min_controls} "
            "market(s) that had not launched yet"
        )
    if did.pre_trend_p < ALPHA:
        problems.append(
            f"before launch, the launched markets' trend differed from the others' ({format_p_value(did.pre_trend_p)})"
        )
    if placebo.low > 0 or placebo.high < 0:
        problems.append(f"fake launches {PLACEBO_SHIFT} weeks early already show an effect")
    return problems


def _synthetic_problems(synthetic: SyntheticControl) -> list[str]:
    problems = []
    if synthetic.too_few_donors:
        problems.append(f"too few control markets: only {synthetic.donors} never launched the policy")
    if synthetic.pre_fit_p < ALPHA:
        problems.append(
            "the synthetic market does not track the launched market before launch "
            f"({format_p_value(synthetic.pre_fit_p)}): the other markets cannot reproduce its level"
        )
    return problems


def _unit(metric) -> tuple[float, str]:
    """How a rate metric's effects are written: (scale, unit), e.g. (100, " pp")."""
    return {"per_1k": (1000.0, " per 1,000"), "percent": (100.0, " pp")}.get(metric.format, (1.0, ""))


def _number(value: float, metric, signed: bool = False) -> str:
    scale, _ = _unit(metric)
    return f"{value * scale:+.2f}" if signed else f"{abs(value) * scale:.2f}"


def _range(low: float, high: float, metric) -> str:
    """`+0.12 to +0.30 pp`: signed ends of an interval with the unit once."""
    return f"{_number(low, metric, True)} to {_number(high, metric, True)}{_unit(metric)[1]}"


def _markets(result: Impact) -> str:
    names = sorted(result.launches)
    return names[0] if len(names) == 1 else f"the {len(names)} markets that launched it ({', '.join(names)})"


def headline(result: Impact) -> str:
    """The effect in words, or why the design does not support one."""
    title = result.metric.title[0].lower() + result.metric.title[1:]
    if result.problems:
        return (
            f"The design does not hold for {result.policy}: {'; '.join(result.problems)}. The change in {title} "
            f"after launch cannot be read as the policy's effect."
        )
    value, low, high = result.effect
    verb = "raised" if value > 0 else "cut"
    unit = _unit(result.metric)[1]
    if result.significant:
        near, far = sorted((abs(low), abs(high)))
        interval = f"95 % CI {_number(near, result.metric)}–{_number(far, result.metric)}{unit}"
    else:
        interval = f"95 % CI {_range(low, high, result.metric)}"
    sentence = (
        f"The {result.policy} policy {verb} {title} by {_number(value, result.metric)}{unit} ({interval}, "
        f"{value / result.counterfactual_level:+.0%} of its level) in {_markets(result)}."
    )
    if not result.significant:
        sentence += " The interval includes zero: no clear effect."
    return sentence


def checks_table(result: Impact) -> pd.DataFrame:
    """The design checks: pre-launch trends, placebo launches and controls (DiD); fit and placebos (synthetic)."""
    if not result.estimated:
        rows = [("an estimate is possible", "; ".join(result.problems), False)]
    elif result.did is not None:
        did, placebo = result.did, result.placebo
        rows = [
            (
                "pre-launch trends (mean of the last 4 pre-launch event-study terms is 0, t test)",
                f"t = {did.pre_trend_t:.2f}, {format_p_value(did.pre_trend_p)}",
                did.pre_trend_p >= ALPHA,
            ),
            (
                f"placebo launches {PLACEBO_SHIFT} weeks early, pre-launch data only",
                f"{_number(placebo.value, result.metric, True)}{_unit(result.metric)[1]} "
                f"(95 % CI {_range(placebo.low, placebo.high, result.metric)})",
                placebo.low <= 0 <= placebo.high,
            ),
            (
                "control markets behind each post-launch comparison",
                f"at least {did.min_controls}",
                not did.too_few_controls,
            ),
        ]
    else:
        synthetic = result.synthetic
        weights = ", ".join(
            f"{name} {weight:.0%}"
            for name, weight in synthetic.weights.sort_values(ascending=False).items()
            if weight >= 0.005
        )
        rows = [
            (
                "synthetic market tracks the launched one before launch (pre-launch gaps average 0, t test)",
                f"{format_p_value(synthetic.pre_fit_p)}; weights {weights}",
                synthetic.pre_fit_p >= ALPHA,
            ),
            (
                "placebo in space: rank of the post/pre RMSPE ratio among all markets",
                f"{format_p_value(synthetic.placebo_p)} (at best {synthetic.smallest_placebo_p:.3f} with "
                f"{synthetic.donors} donors)",
                None,
            ),
            ("conformal permutation test of no effect", format_p_value(synthetic.conformal_p), None),
            ("control markets (never launched this policy)", str(synthetic.donors), not synthetic.too_few_donors),
        ]
    return pd.DataFrame([{"check": check, "result": text, "verdict": VERDICTS[ok]} for check, text, ok in rows])


def event_chart(result: Impact, ax: Axes | None = None) -> Axes:
    """Effect by weeks since launch with its 95 % interval (DiD event study; synthetic-control gap)."""
    ax = ax or plt.subplots(figsize=(8, 3.5))[1]
    if result.did is not None:
        series = result.did.event_study
        ax.fill_between(
            series["event_time"],
            series["low"],
            series["high"],
            color=PALETTE["primary"],
            alpha=0.2,
            label="95 % interval",
        )
        ax.plot(series["event_time"], series["att"], marker="o", color=PALETTE["primary"], label="effect (event study)")
    else:
        gaps = result.synthetic.gaps
        ax.plot(
            gaps["event_time"], gaps["gap"], marker="o", color=PALETTE["primary"], label="market − synthetic market"
        )
        post = gaps[gaps["event_time"] >= 0]["event_time"]
        ax.fill_between(
            [post.min() - 0.5, post.max() + 0.5],
            result.synthetic.low,
            result.synthetic.high,
            color=PALETTE["highlight"],
            alpha=0.2,
            label="mean effect after launch, 95 % interval",
        )
        ax.hlines(result.synthetic.effect, post.min() - 0.5, post.max() + 0.5, color=PALETTE["highlight"])
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(-0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.yaxis.set_major_formatter(axis_formatter(result.metric.format, change=True))
    ax.set_xlabel("weeks since launch")
    ax.set_ylabel(f"effect ({_unit(result.metric)[1].strip() or 'metric units'})")
    ax.set_title(f"{result.metric.title}: effect of {result.policy} by week since launch")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    plain_text(ax)
    return ax


def money(result: Impact, assumptions: Assumptions) -> MoneyValue | None:
    """The effect in money over the launched markets' weekly volume (None when the design does not hold)."""
    if result.problems:
        return None
    value, low, high = result.effect
    level = result.counterfactual_level
    change = RateChange(
        metric=result.metric.title,
        direction=result.metric.direction,
        absolute=value,
        ci_low=low,
        ci_high=high,
        relative=value / level,
        relative_ci_low=low / level,
        relative_ci_high=high / level,
    )
    launched = result.panel[result.panel["t"] >= result.panel["first_treated"]]
    orders_per_week = float(launched.groupby("t")["denominator"].sum().mean())
    return money_value(change, orders_per_week, assumptions)
