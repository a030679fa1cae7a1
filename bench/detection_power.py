"""Randomised detection power benchmark (issue 9, "How it is proven").

Builds fresh demo warehouses (one random seed each) in a temporary directory, overlays random incidents on a
copy of each (`gnelib.evaluation.inject`: raw rows changed, so catalog SQL → metric frames → scan see them),
scans every week of the copy's incident window with `gnelib.analysis.detection.scan`, and scores `findings`
against the manifest (`gnelib.evaluation.power`). Also scans null copies (nothing injected).

Prints, and draws as a PNG (--png):
  - recall by effect size (<2, 2-3, 3-5, >=5 cell SE) per incident kind; targets >=95 % at >=5 SE and >=80 % at 3-5;
  - the carrying segment ranked first among found incidents (target >=90 %; a pair counts only when the deep dive
    ranks the pair cell first; a single seller when the deep dive's seller concentration names it);
  - verdict correctness (bad incidents called an improvement, improvements called a deterioration; target 0);
  - false alarms on quiet market x metric x week cells of the injected copies (target <=2 %) and on null copies,
    and a Kolmogorov-Smirnov test of the null copies' scan p-values against uniform;
  - scan time per market on the scale used (the bench's metric set, and once the whole catalog).

Effect sizes are in units of the carrying cell's own standard error, computed without gnelib.analysis:
max(1.4826 * MAD of its detrended weekly values over the 12 weeks before the incident, binomial/Poisson
sampling error) (see gnelib/evaluation/cells.py).

The seed is random unless --seed is given, and is printed: --seed reproduces a run exactly. The default run
(medium, 200 incidents) takes ~25-40 minutes on 2 cores; --quick (small scale, 40 incidents, 2 copies, 1 null
copy) takes a few minutes.

    .venv/bin/python bench/detection_power.py --quick
    .venv/bin/python bench/detection_power.py --seed 12345
"""

import argparse
import math
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from gnelib import metrics
from gnelib.evaluation import KINDS, Planner, draw_incidents, inject
from gnelib.evaluation.power import (
    QUIET_TARGET,
    RECALL_TARGETS,
    SEGMENT_TARGET,
    SIZE_LABELS,
    generator_events,
    ideal_recall,
    is_event,
    quiet_cells,
    recall_table,
    score_incidents,
    touched_cells,
)
from gnelib.periods import weeks_between
from gnelib.warehouse import build_warehouse, connect

BENCH_METRICS = (
    "not_as_described_rate", "counterfeit_claim_rate", "negative_review_rate", "late_dispatch_rate",
    "late_delivery_rate", "orders", "gmv_usd", "order_defect_rate", "refund_rate", "damaged_claim_rate",
    "valid_tracking_rate", "seller_fault_cancel_rate",
)
"""What the bench scans: every injected metric, the metrics injections move as a side effect, and four metrics
no injection touches (false-alarm controls)."""
SCALE_LIMITS = {"medium": (150, 8), "small": (25, 1.5)}
"""Per scale: the smallest weekly denominator and mean weekly events of a cell an incident may be placed in."""
INCIDENTS_PER_COPY = 22
FIRST = ("volume_sale", "new_seller_burst", "single_seller", "pair_rate")
"""Kinds placed first on a copy: they need an untouched market or one of few eligible cells."""
DEFAULT_PNG = Path(__file__).parent / "out" / "detection_power.png"


@dataclass
class Results:
    """What the copies and null copies produced."""

    scored: list[pd.DataFrame] = field(default_factory=list)
    cells: list[pd.DataFrame] = field(default_factory=list)
    null_cells: list[pd.DataFrame] = field(default_factory=list)
    null_p: list[pd.DataFrame] = field(default_factory=list)
    scan_seconds: list[float] = field(default_factory=list)
    markets: int = 8
    full_scan: dict[str, float] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)
    concentration_available: bool | None = None
    depth: int = 1


# --- set-up ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, help="run seed (default: random, printed)")
    parser.add_argument("--scale", choices=["small", "medium"], default="medium", help="warehouse scale")
    parser.add_argument("--incidents", type=int, default=200, help="incidents to inject in all (default 200)")
    parser.add_argument("--copies", type=int, help=f"injected copies (default: incidents / {INCIDENTS_PER_COPY}, "
                        "rounded up); more are added when incidents find no room")
    parser.add_argument("--null-copies", type=int, default=2, help="copies with nothing injected (default 2)")
    parser.add_argument("--weeks-per-copy", type=int, default=6,
                        help="consecutive weeks a copy's incidents lie in, each scanned (default 6)")
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG, help=f"figure path (default {DEFAULT_PNG})")
    parser.add_argument("--csv", type=Path, help="per-incident results (default: next to the PNG)")
    parser.add_argument("--depth", type=int, choices=[1, 2], default=1,
                        help="scan depth: 1 = totals and single-dimension cells, 2 = also pair cells (default 1)")
    parser.add_argument("--quick", action="store_true",
                        help="fast sanity run: small scale, 40 incidents, 2 copies, 1 null copy")
    parser.add_argument("--no-full-scan-timing", action="store_true",
                        help="skip timing one scan of the whole catalog")
    parser.add_argument("--keep", type=Path, help="keep the warehouses in this directory (default: temporary)")
    parser.add_argument("--kinds", type=lambda text: text.split(","), default=list(KINDS),
                        help="comma-separated incident kinds to draw from (default: all: " + ",".join(KINDS) + ")")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    if args.quick:
        args.scale, args.incidents, args.null_copies = "small", 40, 1
        args.copies = args.copies or 2
    args.seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    args.copies = args.copies or math.ceil(args.incidents / INCIDENTS_PER_COPY)
    args.csv = args.csv or args.png.with_name(args.png.stem + "_incidents.csv")
    return args


def open_warehouse(path: Path):
    """A read-only connection without DuckDB's progress bar (it would litter the printed report)."""
    conn = connect(path)
    raw = getattr(conn, "_con", None)
    if raw is not None:
        raw.execute("SET enable_progress_bar = false")
    return conn


def build(path: Path, scale: str, seed: int) -> Path:
    started = time.perf_counter()
    build_warehouse(path, scale=scale, seed=seed)
    print(f"  built {scale} warehouse seed {seed} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def window(rng: np.random.Generator, allowed: list[str], length: int) -> list[str]:
    """A random run of `length` consecutive allowed weeks."""
    starts = [week for index, week in enumerate(allowed[: len(allowed) - length + 1])
              if allowed[index: index + length] == weeks_between(week, allowed[index + length - 1])]
    first = allowed.index(str(rng.choice(starts)))
    return allowed[first: first + length]


# --- one copy ---------------------------------------------------------------------------------------------------


def scan_weeks(conn, weeks: list[str], results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every scan row, findings) over `weeks`, timing each scan."""
    from gnelib.analysis.detection import findings, scan

    tables, found = [], []
    for week in weeks:
        started = time.perf_counter()
        table = scan(conn, week, metrics=list(BENCH_METRICS), depth=results.depth)
        results.scan_seconds.append(time.perf_counter() - started)
        results.markets = int(table["market"].nunique()) or results.markets
        tables.append(table)
        found.append(findings(table))
    return pd.concat(tables, ignore_index=True), pd.concat(found, ignore_index=True)


def frames_by_market(conn, weeks: list[str]) -> dict[str, pd.DataFrame]:
    return metrics.compute_many(conn, list(BENCH_METRICS), weeks=(weeks[0], weeks[-1]), by=["market"])


def run_copy(index: int, seed: int, kinds: list[str], args, workdir: Path, rng: np.random.Generator,
             results: Results) -> list[str]:
    """Build, inject `kinds`, scan and score one copy; returns the kinds that found no room."""
    source, target = workdir / f"source-{index}.duckdb", workdir / f"copy-{index}.duckdb"
    build(source, args.scale, seed)
    min_denominator, min_events = SCALE_LIMITS[args.scale]
    with open_warehouse(source) as conn:
        planner = Planner(conn, rng, min_denominator=min_denominator, min_events=min_events,
                          first_id=1 + sum(len(frame) for frame in results.scored))
        planner.weeks = window(rng, planner.weeks, args.weeks_per_copy)
        started = time.perf_counter()
        incidents, left = draw_incidents(planner, kinds)
        print(f"  copy {index}: weeks {planner.weeks[0]}..{planner.weeks[-1]}, {len(incidents)} incidents planned "
              f"in {time.perf_counter() - started:.0f} s ({len(left)} without room)", flush=True)
        if not incidents:
            source.unlink(missing_ok=True)
            return left
        manifest = inject(source, target, incidents)
        span = (planner.frames.weeks[0], planner.weeks[-1])
        before = frames_by_market(conn, list(span))
        events = generator_events(conn, planner.weeks)
    with open_warehouse(target) as conn:
        touched = touched_cells(before, frames_by_market(conn, list(span)))
        started = time.perf_counter()
        weeks = sorted({week for incident in incidents for week in incident.weeks})  # the window, when full
        table, found = scan_weeks(conn, weeks, results)
        print(f"  copy {index}: scanned {len(weeks)} weeks in {time.perf_counter() - started:.0f} s", flush=True)
        scored = score_incidents(manifest, found)
        cells_scanned = table.groupby(["metric", "market", "week"]).size()
        scored["cells_scanned"] = [int(cells_scanned.get((row.metric, row.market, row.first_week), 1))
                                   for row in scored.itertuples(index=False)]
        scored["ideal"] = ideal_recall([[float(size) for size in sizes.split(",")] for sizes in scored["sizes_se"]],
                                       scored["cells_scanned"])
        scored["copy"], scored["warehouse_seed"] = index, seed
        scored = deep_dive_checks(conn, scored, results)
        if index == 0 and not args.no_full_scan_timing:
            time_full_scan(target, planner.weeks[-1], results)
    cells = quiet_cells(table, found, touched, events, manifest)
    cells["copy"] = index
    results.scored.append(scored)
    results.cells.append(cells)
    if args.keep is None:
        source.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
    return left


def deep_dive_checks(conn, scored: pd.DataFrame, results: Results) -> pd.DataFrame:
    """For found pair incidents: is the pair cell the deep dive's rank-1 root cause? For found single-seller
    incidents: does the deep dive's seller concentration name the seller? (None: not available.)"""
    from gnelib.analysis.deep_dive import deep_dive

    scored = scored.copy()
    scored["pair_named"], scored["seller_named"] = None, None
    for index, row in scored[scored["found"] & scored["kind"].isin(["pair_rate", "single_seller"])].iterrows():
        try:
            result = deep_dive(conn, row["metric"], row["market"], row["found_week"])
        except Exception as error:  # a deep-dive failure is a finding of the bench, not a crash
            print(f"    deep dive failed for incident {row['incident_id']}: {type(error).__name__}: {error}")
            continue
        if row["kind"] == "pair_rate":
            scored.at[index, "pair_named"] = _pair_first(result, row) or row["segment_first"]
        else:
            scored.at[index, "seller_named"] = _seller_named(result, row["seller_id"], results)
    return scored


def _pair_first(result, row: pd.Series) -> bool:
    cause = getattr(result, "root_cause", None)
    if cause is None or getattr(cause, "broad_based", False):
        return False
    top = cause.top(5)
    if top.empty:
        return False
    first = top.iloc[0]
    named = set(zip(str(first["dimension"]).split(" × "), str(first["value"]).split(" × "), strict=False))
    wanted = set(zip(row["dimension"].split(" × "), row["value"].split(" × "), strict=True))
    return named == wanted


def _seller_named(result, seller_id, results: Results) -> bool | None:
    concentration = getattr(result, "concentration", None)
    if concentration is None:
        results.concentration_available = bool(results.concentration_available)
        return None
    results.concentration_available = True
    named = getattr(concentration, "named", None)
    if named is None:
        named = getattr(concentration, "units", pd.DataFrame())
    column = "unit_id" if "unit_id" in named else "seller_id"
    return bool(column in named and (pd.to_numeric(named[column]) == int(seller_id)).any())


def time_full_scan(path: Path, week: str, results: Results) -> None:
    """One scan of every catalog metric (all markets), and one as a single-market scorecard asks, each on a fresh
    connection (the scan caches per connection)."""
    from gnelib.analysis.detection import scan

    with open_warehouse(path) as conn:
        started = time.perf_counter()
        table = scan(conn, week)
        results.full_scan["all markets"] = time.perf_counter() - started
        results.full_scan["markets"] = int(table["market"].nunique())
        market = str(table["market"].iloc[0])
    with open_warehouse(path) as conn:
        started = time.perf_counter()
        scan(conn, week, markets=[market])
        results.full_scan["one market"] = time.perf_counter() - started


def run_null(index: int, seed: int, args, workdir: Path, rng: np.random.Generator, results: Results) -> None:
    """Build a warehouse, inject nothing, scan a random window, keep its alarms and p-values."""
    path = workdir / f"null-{index}.duckdb"
    build(path, args.scale, seed)
    min_denominator, min_events = SCALE_LIMITS[args.scale]
    with open_warehouse(path) as conn:
        planner = Planner(conn, rng, min_denominator=min_denominator, min_events=min_events)
        weeks = window(rng, planner.weeks, args.weeks_per_copy)
        events = generator_events(conn, weeks)
        table, found = scan_weeks(conn, weeks, results)
    cells = quiet_cells(table, found, set(), events)
    cells["copy"] = index
    results.null_cells.append(cells)
    keys = list(table[["market", "metric", "week"]].itertuples(index=False, name=None))
    table = table.assign(generator_event=[is_event(events, *key) for key in keys], copy=index)
    results.null_p.append(table[["metric", "market", "week", "dimension", "segment", "p_value", "flag",
                                 "generator_event", "copy"]])
    print(f"  null copy {index}: weeks {weeks[0]}..{weeks[-1]} scanned, {len(found)} findings", flush=True)
    if args.keep is None:
        path.unlink(missing_ok=True)


# --- report ---------------------------------------------------------------------------------------------------


def pct(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:6.1%}" if denominator else "    - "


def print_recall(scored: pd.DataFrame) -> pd.DataFrame:
    table = recall_table(scored)
    print("\nRecall by effect size (found / injected; size = carrying cell's SE units)")
    print(f"  {'kind':<18}" + "".join(f"{label:>16}" for label in SIZE_LABELS) + "   targets")
    for kind, row in table.iterrows():
        cells = "".join(f"{found:>4}/{total:<4}{pct(found, total):>8}" for found, total in row)
        checks = []
        for label, target in RECALL_TARGETS.items():
            found, total = row[label]
            if total:
                checks.append(f"{label} {'ok' if found / total >= target else 'MISS'}")
        print(f"  {kind:<18}{cells}   {', '.join(checks)}")
    ideal = scored.groupby("size_bin", observed=False)["ideal"].mean()
    shares = "".join(f"{pct(ideal[label], 1) if pd.notna(ideal[label]) else '-':>16}" for label in SIZE_LABELS)
    print(f"  {'ideal detector':<18}{shares}   (knows the noise; same false-alarm budget over the cells it scans)")
    return table


def print_segments(scored: pd.DataFrame) -> None:
    found = scored[scored["found"]]
    single = found[~found["kind"].isin(["pair_rate", "single_seller"])]
    pairs = found[found["kind"] == "pair_rate"]
    sellers = found[found["kind"] == "single_seller"]
    named = int(single["segment_first"].sum()) + int(pairs["pair_named"].fillna(False).astype(bool).sum())
    judged = len(single) + len(pairs)
    print(f"\nCarrying segment ranked first among found incidents: {named}/{judged} {pct(named, judged)} "
          f"(target >= {SEGMENT_TARGET:.0%}; pairs count only when the pair is named)")
    for kind, group in single.groupby("kind"):
        print(f"  {kind:<18} {int(group['segment_first'].sum()):>4}/{len(group):<4}"
              f"{pct(group['segment_first'].sum(), len(group))}")
    pair_hits = int(pairs["pair_named"].fillna(False).astype(bool).sum())
    print(f"  {'pair_rate':<18} {pair_hits:>4}/{len(pairs):<4}{pct(pair_hits, len(pairs))}  "
          "(deep dive root cause rank 1 is the pair cell)")
    available = sellers["seller_named"].notna()
    if len(sellers) and available.any():
        hits = int(sellers.loc[available, "seller_named"].astype(bool).sum())
        print(f"  {'single_seller':<18} {hits:>4}/{int(available.sum()):<4}{pct(hits, available.sum())}  "
              "(seller named by the deep dive's seller concentration)")
    else:
        print(f"  {'single_seller':<18} not available (deep dive has no seller concentration result)"
              if len(sellers) else f"  {'single_seller':<18} none found")
    missed = single[~single["segment_first"]]
    if len(missed):
        print("  found but another (or no) segment first, by level:",
              ", ".join(f"{level} {count}" for level, count in missed["level"].value_counts().items()),
              f"; broad-based (no segment) {int((missed['segments'].str.len() == 0).sum())}")


def print_verdicts(scored: pd.DataFrame) -> None:
    bad = scored[(scored["verdict"] == "bad") & scored["wrong_verdict"]]
    good = scored[(scored["verdict"] == "good") & scored["wrong_verdict"]]
    print(f"\nVerdicts: bad incidents called an improvement {len(bad)}/{int((scored['verdict'] == 'bad').sum())}, "
          f"improvements called a deterioration {len(good)}/{int((scored['verdict'] == 'good').sum())} (target 0 each)")
    for _, row in pd.concat([bad, good]).iterrows():
        print(f"  incident {row['incident_id']} {row['kind']} {row['metric']} {row['market']} {row['weeks']}")


def print_false_alarms(results: Results) -> dict[str, float]:
    figures = {}
    cells = pd.concat(results.cells, ignore_index=True)
    quiet = cells[cells["quiet"]]
    alarms = int(quiet["alarm"].sum())
    figures["quiet"] = alarms / len(quiet) if len(quiet) else float("nan")
    print(f"\nFalse alarms on quiet cells of injected copies: {alarms}/{len(quiet)} {pct(alarms, len(quiet))} "
          f"(market x metric x week with no incident or side effect; target <= {QUIET_TARGET:.0%})")
    after = quiet[quiet["after_incident"]]
    print(f"  of which within 2 weeks after an incident on the same market x metric: "
          f"{int(after['alarm'].sum())}/{len(after)} {pct(after['alarm'].sum(), len(after))}")
    if alarms:
        by_metric = quiet[quiet["alarm"]].groupby("metric").size().sort_values(ascending=False)
        print("  by metric: " + ", ".join(f"{metric} {count}" for metric, count in by_metric.items()))
    if results.null_cells:
        null = pd.concat(results.null_cells, ignore_index=True)
        null_quiet = null[null["quiet"]]
        null_alarms = int(null_quiet["alarm"].sum())
        figures["null"] = null_alarms / len(null_quiet) if len(null_quiet) else float("nan")
        print(f"False alarms on null copies: {null_alarms}/{len(null_quiet)} {pct(null_alarms, len(null_quiet))} "
              f"of market x metric x week cells ({len(results.null_cells)} copies)")
        if null_alarms:
            by_metric = null_quiet[null_quiet["alarm"]].groupby("metric").size().sort_values(ascending=False)
            print("  by metric: " + ", ".join(f"{metric} {count}" for metric, count in by_metric.items()))
        events = pd.concat([cells, null], ignore_index=True)
        events = events[events["generator_event"]]
        print(f"Generator's own events (mega-sale volume, experiment switch-on/off, policy launches; not counted "
              "above): "
              f"flagged {int(events['alarm'].sum())}/{len(events)}")
    return figures


def print_null_p(results: Results) -> dict[str, float]:
    if not results.null_p:
        return {}
    table = pd.concat(results.null_p, ignore_index=True)
    table = table[~table["generator_event"] & table["p_value"].notna()]
    figures = {}
    print("\nScan p-values on null copies against uniform (Kolmogorov-Smirnov):")
    for label, rows in (("all cells", table), ("market totals", table[table["dimension"] == ""])):
        values = rows["p_value"].clip(0, 1).to_numpy()
        result = stats.kstest(values, "uniform")
        figures[label] = result.statistic
        print(f"  {label:<14} n={len(values):>6}  D={result.statistic:.3f}  p={result.pvalue:.3g}  "
              f"share p<0.05 {np.mean(values < 0.05):.3f}  p<0.01 {np.mean(values < 0.01):.3f}  "
              f"p=1 {np.mean(values >= 0.999):.3f}  "
              f"flagged cells {int(rows['flag'].sum())}")
    totals = table[table["dimension"] == ""]
    worst = (totals.groupby("metric")["p_value"].apply(lambda p: stats.kstest(p, "uniform").statistic)
             .sort_values(ascending=False).head(4))
    print("  least uniform metrics (market totals, D): " + ", ".join(f"{m} {d:.2f}" for m, d in worst.items()))
    return figures


def print_timing(results: Results, scale: str) -> None:
    seconds = np.array(results.scan_seconds)
    per_market = seconds / max(results.markets, 1)
    print(f"\nScan time on {scale} ({len(BENCH_METRICS)} metrics, all {results.markets} markets, every cell): "
          f"median {np.median(seconds):.1f} s per week, {np.median(per_market):.2f} s per market "
          f"(max {per_market.max():.2f})")
    if results.full_scan:
        markets = results.full_scan["markets"]
        print(f"Whole-catalog scan, fresh connection: all {markets} markets {results.full_scan['all markets']:.1f} s "
              f"({results.full_scan['all markets'] / markets:.2f} s per market); one-market scorecard scan "
              f"{results.full_scan['one market']:.1f} s (target < 10 s per market)")


def plot(scored: pd.DataFrame, results: Results, figures: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = recall_table(scored)
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    positions = np.arange(len(SIZE_LABELS))
    for kind, row in table.iterrows():
        values = [found / total if total else np.nan for found, total in row]
        style = {"color": "black", "linewidth": 3} if kind == "all" else {"alpha": 0.8}
        ax.plot(positions, values, marker="o", label=kind, **style)
    for label, target in RECALL_TARGETS.items():
        ax.hlines(target, SIZE_LABELS.index(label) - 0.3, SIZE_LABELS.index(label) + 0.3, colors="red",
                  linestyles="--")
    ax.set(xticks=positions, xticklabels=[f"{label} SE" for label in SIZE_LABELS], ylim=(-0.02, 1.02),
           ylabel="recall", title="Recall by effect size (red: targets)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0, 1]
    found = scored[scored["found"]]
    shares = {}
    for kind, group in found.groupby("kind"):
        if kind == "pair_rate":
            shares[kind] = group["pair_named"].fillna(False).astype(bool).mean()
        elif kind == "single_seller":
            available = group["seller_named"].dropna()
            shares[kind] = available.astype(bool).mean() if len(available) else np.nan
        else:
            shares[kind] = group["segment_first"].mean()
    ax.barh(list(shares), list(shares.values()), color="tab:blue")
    ax.axvline(SEGMENT_TARGET, color="red", linestyle="--")
    ax.set(xlim=(0, 1), title="Carrying segment ranked first (found incidents)", xlabel="share")
    ax = axes[1, 0]
    if results.null_p:
        values = np.sort(pd.concat(results.null_p)["p_value"].dropna().clip(0, 1).to_numpy())
        ax.plot(np.linspace(0, 1, len(values)), values, label="scan p-values, null copies")
        ax.plot([0, 1], [0, 1], color="red", linestyle="--", label="uniform")
        ax.set(xlabel="uniform quantile", ylabel="p-value quantile", title="Null copies: p-value QQ plot")
        ax.legend()
    ax = axes[1, 1]
    labels = ["quiet cells", "null copies"]
    values = [figures.get("quiet", np.nan), figures.get("null", np.nan)]
    ax.bar(labels, values, color=["tab:orange", "tab:gray"])
    ax.axhline(QUIET_TARGET, color="red", linestyle="--", label="target 2 %")
    ax.set(ylabel="share of market x metric x week cells flagged", title="False alarms")
    ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- main -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import gnelib.analysis.detection  # noqa: F401
    except ImportError as error:
        print(f"gnelib.analysis.detection is not available yet ({error}); nothing to benchmark.")
        return 2
    print(f"detection power benchmark: seed {args.seed} (rerun with --seed {args.seed}), scale {args.scale}, "
          f"{args.incidents} incidents on {args.copies}+ copies, {args.null_copies} null copies, "
          f"{args.weeks_per_copy} weeks per copy, scan depth {args.depth}, kinds {','.join(args.kinds)}", flush=True)
    rng = np.random.default_rng(args.seed)
    queue = [str(kind) for kind in rng.permutation(np.resize(np.array(args.kinds), args.incidents))]
    results = Results(depth=args.depth)
    started = time.perf_counter()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="gne-power-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        index, max_copies, tries = 0, args.copies + 3, {}
        while queue and index < max_copies:
            quota = math.ceil(len(queue) / max(args.copies - index, 1))
            batch, queue = queue[:quota], queue[quota:]
            batch.sort(key=lambda kind: FIRST.index(kind) if kind in FIRST else len(FIRST))
            left = run_copy(index, int(rng.integers(1, 2**31)), batch, args, workdir, rng, results)
            for position, kind in enumerate(left):  # a kind that found no room twice does not fit this scale
                tries[kind] = tries.get(kind, 0) + 1
                (queue if tries[kind] < 2 else results.unplaced).insert(position if tries[kind] < 2 else 0, kind)
            index += 1
        results.unplaced += queue
        for null_index in range(args.null_copies):
            run_null(null_index, int(rng.integers(1, 2**31)), args, workdir, rng, results)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return report(args, results, time.perf_counter() - started)


def report(args, results: Results, elapsed: float) -> int:
    scored = pd.concat(results.scored, ignore_index=True)
    print(f"\n=== detection power: seed {args.seed}, scale {args.scale}, {len(scored)} incidents on "
          f"{len(results.scored)} copies ({len(results.unplaced)} not placed), {args.null_copies} null copies, "
          f"{elapsed / 60:.1f} min ===")
    print("incidents per kind: " + ", ".join(f"{k} {n}" for k, n in scored["kind"].value_counts().items()))
    print_recall(scored)
    by_metric = scored.groupby("metric")["found"].agg(["sum", "count"])
    print("  recall by metric: " + ", ".join(f"{m} {int(r['sum'])}/{int(r['count'])}" for m, r in by_metric.iterrows()))
    print_segments(scored)
    print_verdicts(scored)
    figures = print_false_alarms(results)
    figures.update(print_null_p(results))
    print_timing(results, args.scale)
    title = f"Detection power — seed {args.seed}, {args.scale}, {len(scored)} incidents"
    plot(scored, results, figures, args.png, title)
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    scored.assign(segments=scored["segments"].map("; ".join)).to_csv(args.csv, index=False)
    cells_csv = args.csv.with_name(args.png.stem + "_cells.csv")
    cells = [frame.assign(null_copy=False) for frame in results.cells]
    cells += [frame.assign(null_copy=True) for frame in results.null_cells]
    pd.concat(cells, ignore_index=True).to_csv(cells_csv, index=False)
    print(f"\nfigure: {args.png}\nper-incident results: {args.csv}\nper-cell alarms: {cells_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
