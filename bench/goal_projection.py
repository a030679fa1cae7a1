"""Back-test of the goals' projection (gnelib.analysis.projection: damped trend, 80 % / 95 % intervals) on the
demo history: for every series and many cut-off weeks, fit on the trailing weeks up to the cut-off as the goals
report does, project `h` weeks ahead and compare with what happened.

    .venv/bin/python bench/goal_projection.py [--warehouse PATH] [--horizons 1,4,8,13] [--markets all|market]
                                              [--metrics NAME,...]

Series: every catalog metric in every market and across all markets (`--markets all` keeps only the all-market
series: a quick run), mature weeks only. Cut-offs: every week with at least `--min-weeks` weeks before it and `h`
after it; the fit uses at most the last 26 weeks (`gnelib.goals.progress.FIT_WEEKS`). Printed per horizon: the
number of projections, the empirical coverage of the nominal 80 % and 95 % intervals, the mean absolute error
relative to the series' mean level, and relative to the error of a naive projection (the last value).
Without `--warehouse` a small warehouse (seed 7) is built into a temporary directory.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from gnelib import metrics
from gnelib.analysis.projection import project
from gnelib.config import load_project
from gnelib.goals.progress import FIT_WEEKS
from gnelib.warehouse import build_warehouse, connect


def series_of(conn, names: list[str], markets: str) -> dict[tuple[str, str], pd.Series]:
    """{(metric, market): weekly values, mature weeks only, oldest first}; market `all` = across all markets."""
    grain = load_project().grain
    out = {}
    for name in names:
        frames = []
        if markets in ("every", "all"):
            frames.append(metrics.compute(conn, name).assign(**{grain: "all"}))
        if markets != "all":
            where = None if markets == "every" else {grain: markets}
            frames.append(metrics.compute(conn, name, by=[grain], where=where))
        for frame in frames:
            mature = frame[frame["is_mature"].astype(bool) & frame["value"].notna()]
            for market, rows in mature.groupby(grain):
                out[(name, str(market))] = rows.sort_values("period_start")["value"].reset_index(drop=True)
    return out


def backtest(series: dict[tuple[str, str], pd.Series], horizons: list[int], min_weeks: int) -> pd.DataFrame:
    """One row per series × cut-off × horizon: the actual value, the projection, the interval hits, the naive error."""
    rows = []
    for (name, market), values in series.items():
        y = values.to_numpy()
        scale = float(np.mean(np.abs(y))) or 1.0
        for cut in range(min_weeks, len(y) - min(horizons) + 1):
            reachable = [h for h in horizons if cut + h - 1 < len(y)]
            if not reachable:
                continue
            history = y[max(0, cut - FIT_WEEKS) : cut]
            forecast = project(history, max(reachable))
            for h in reachable:
                actual, row = y[cut + h - 1], forecast.iloc[h - 1]
                rows.append(
                    {
                        "metric": name,
                        "market": market,
                        "h": h,
                        "error": abs(actual - row["mean"]) / scale,
                        "naive": abs(actual - history[-1]) / scale,
                        "in_80": row["lower_80"] <= actual <= row["upper_80"],
                        "in_95": row["lower_95"] <= actual <= row["upper_95"],
                    }
                )
    return pd.DataFrame(rows)


def summary(results: pd.DataFrame) -> pd.DataFrame:
    grouped = results.groupby("h")
    return pd.DataFrame(
        {
            "projections": grouped.size(),
            "coverage 80%": grouped["in_80"].mean().map("{:.1%}".format),
            "coverage 95%": grouped["in_95"].mean().map("{:.1%}".format),
            "MAE / level": grouped["error"].mean().map("{:.1%}".format),
            "MAE / naive MAE": (grouped["error"].mean() / grouped["naive"].mean()).map("{:.2f}".format),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, help="an existing warehouse file (default: build a small one)")
    parser.add_argument("--horizons", default="1,4,8,13", help="weeks ahead, comma-separated (default 1,4,8,13)")
    parser.add_argument(
        "--markets",
        default="every",
        help="every (each market and all markets, the default), all (all markets only), or a market",
    )
    parser.add_argument("--metrics", help="comma-separated metrics (default: the whole catalog)")
    parser.add_argument("--min-weeks", type=int, default=12, help="weeks before the first cut-off (default 12)")
    args = parser.parse_args()
    horizons = sorted({int(h) for h in args.horizons.split(",")})
    names = args.metrics.split(",") if args.metrics else metrics.load_catalog().names()
    with tempfile.TemporaryDirectory() as folder:
        path = args.warehouse
        if path is None:
            path = Path(folder) / "gne-small.duckdb"
            build_warehouse(path, scale="small", seed=7)
        conn = connect(path)
        results = backtest(series_of(conn, names, args.markets), horizons, args.min_weeks)
    pd.set_option("display.width", 200)
    print(
        f"\nwarehouse {path}: {results.groupby(['metric', 'market']).ngroups} series, {len(names)} metrics, "
        f"markets: {args.markets}\n"
    )
    print(summary(results).to_string())
    print("\nnominal coverage: 80% and 95%; MAE / naive MAE below 1 = better than carrying the last value forward")


if __name__ == "__main__":
    main()
