"""Base rates, volumes and seller structure are plausible, recomputed in pandas from the raw rows."""

import numpy as np
import pandas as pd
from warehouse_reference import AS_OF

MATURE = [f"2026-W{w}" for w in range(18, 44)]


def test_order_volume_has_weekday_growth_and_mega_sale_patterns(tables):
    orders = tables["orders"]
    daily = orders.groupby(orders["ordered_at"].dt.normalize()).size()
    daily = daily[daily.index < pd.Timestamp("2026-11-23")]
    for sale_day in ("2026-09-09", "2026-10-10", "2026-11-11"):
        neighbours = daily[(daily.index - pd.Timestamp(sale_day)).days.isin([-7, 7])].mean()
        assert daily[pd.Timestamp(sale_day)] >= 1.8 * neighbours
    weekday = daily.groupby(daily.index.day_of_week).median()
    assert weekday[5] > weekday[1]  # Saturday busier than Tuesday
    weekly = orders[orders["week"].isin(MATURE)].groupby("week").size()
    assert weekly.iloc[-4:].mean() > weekly.iloc[:4].mean() * 1.03
    assert set(orders["market"]) == {"US", "GB", "ID", "TH", "VN", "MY", "PH", "SG"}
    assert orders["category"].nunique() >= 20
    assert set(orders["channel"]) == {"live", "short_video", "mall", "search"}


def test_mature_base_rates_are_plausible(tables):
    orders = tables["orders"]
    mature = orders[orders["week"].isin(MATURE)]
    seller_fault = mature["cancel_fault"].eq("seller").fillna(False).mean()
    shipped = mature[mature["shipped_at"].notna()]
    late_dispatch = (shipped["shipped_at"] > shipped["promised_ship_by"]).mean()
    delivered = mature[mature["delivered_at"].notna()]
    late_delivery = (delivered["delivered_at"] > delivered["promised_delivery_by"]).mean()
    claims = delivered.merge(tables["after_sales"], on="order_id", how="left")
    refund = claims["status"].eq("approved").fillna(False).mean()
    negative = delivered.merge(tables["reviews"], on="order_id")["rating"].le(2).sum() / len(delivered)
    bans = tables["enforcement"].query("action == 'ban'")
    assert 0.008 <= seller_fault <= 0.02
    assert 0.02 <= late_dispatch <= 0.06
    assert 0.05 <= late_delivery <= 0.08
    assert 0.015 <= refund <= 0.05
    assert 0.01 <= negative <= 0.04
    assert len(bans) < 0.03 * len(tables["sellers"])


def test_markets_have_different_base_rates(tables):
    orders = tables["orders"]
    delivered = orders[orders["week"].isin(MATURE) & orders["delivered_at"].notna()]
    late = (delivered["delivered_at"] > delivered["promised_delivery_by"]).groupby(delivered["market"]).mean()
    assert late["PH"] > 1.3 * late["SG"]


def test_volume_has_a_long_tail_of_sellers_and_defects_cluster_by_seller(tables):
    orders = tables["orders"]
    per_seller = orders.groupby("seller_id").size().sort_values(ascending=False)
    top_share = per_seller.iloc[: len(per_seller) // 20].sum() / per_seller.sum()
    assert top_share >= 0.3  # top 5% of sellers carry at least 30% of orders
    shipped = orders[orders["shipped_at"].notna() & orders["week"].isin(MATURE)]
    late = (shipped["shipped_at"] > shipped["promised_ship_by"]).astype(float)
    busy = shipped.assign(late=late).groupby("seller_id")["late"].agg(["sum", "count"]).query("count >= 200")
    rates = busy["sum"] / busy["count"]
    pooled = busy["sum"].sum() / busy["count"].sum()
    binomial_var = (pooled * (1 - pooled) / busy["count"]).mean()
    assert rates.var() > 2 * binomial_var  # seller-level heterogeneity beyond sampling noise


def test_moderation_and_enforcement_shapes(tables):
    moderation = tables["listing_moderation"]
    shares = moderation["detection_source"].value_counts(normalize=True)
    assert 0.85 <= shares["proactive_model"] <= 0.95
    removed = moderation[moderation["decision"] == "removed"]
    assert removed["policy_violated"].notna().all()
    assert moderation.loc[moderation["decision"] == "approved", "policy_violated"].isna().all()
    assert 0.15 <= removed["appealed"].mean() <= 0.25
    decided = removed[removed["appeal_overturned"].notna()]
    assert 0.07 <= decided["appeal_overturned"].astype(bool).mean() <= 0.16
    audit = moderation[moderation["detection_source"] == "audit"]
    assert (audit["decision"] == "removed").mean() < 0.1
    assert not moderation.loc[~moderation["appealed"], "appeal_overturned"].notna().any()

    enforcement = tables["enforcement"]
    assert set(enforcement["action"]) == {"warning", "suspension", "ban"}
    assert (enforcement["detected_at"] <= enforcement["actioned_at"]).all()
    assert enforcement.loc[~enforcement["appealed"], "overturned"].isna().all()


def test_banned_sellers_take_no_later_orders(tables):
    bans = tables["enforcement"].query("action == 'ban'").groupby("seller_id")["actioned_at"].min()
    orders = tables["orders"].join(bans.rename("banned_at"), on="seller_id", how="inner")
    assert not (orders["ordered_at"] > orders["banned_at"] + pd.Timedelta(days=1)).any()


def test_experiments_are_balanced_except_the_planted_srm(tables):
    from scipy.stats import chisquare

    units = tables["experiments"].groupby(["experiment_id", "variant"]).size().unstack()
    designs = tables["experiment_designs"].set_index("experiment_id")
    clean = chisquare(units.loc[1]).pvalue
    flawed = chisquare(units.loc[2]).pvalue
    assert clean > 0.001
    assert flawed < 0.0005
    assert designs.loc[1, "true_effect"] == -0.10 and designs.loc[2, "true_effect"] == 0.0
    assert "sample-ratio mismatch" in designs.loc[2, "notes"]


def test_dispatch_experiment_has_a_useful_covariate_and_the_planted_effect(tables):
    units = tables["experiments"].query("experiment_id == 1")
    per_order = units["defects"] / units["orders"].clip(lower=1)
    pre_per_order = units["pre_defects"] / units["pre_orders"]
    assert np.corrcoef(units["defects"], units["pre_defects"])[0, 1] > 0.4
    assert np.corrcoef(per_order[units["orders"] >= 20], pre_per_order[units["orders"] >= 20])[0, 1] > 0.1

    rng = np.random.default_rng(0)
    control, treatment = (
        units[units["variant"] == v][["defects", "orders"]].to_numpy() for v in ("control", "treatment")
    )
    lifts = []
    for _ in range(400):  # seller-level bootstrap of the relative lift in defects per order
        c = control[rng.integers(0, len(control), len(control))].sum(axis=0)
        t = treatment[rng.integers(0, len(treatment), len(treatment))].sum(axis=0)
        lifts.append((t[0] / t[1]) / (c[0] / c[1]) - 1)
    low, high = np.quantile(lifts, [0.005, 0.995])
    assert low <= -0.10 <= high


def test_orders_reference_existing_sellers_and_listings(tables):
    orders, listings = tables["orders"], tables["listings"]
    assert orders["seller_id"].isin(tables["sellers"]["seller_id"]).all()
    joined = orders[["listing_id", "seller_id", "category", "market"]].merge(
        listings[["listing_id", "seller_id", "category", "market"]],
        on="listing_id",
        suffixes=("", "_listing"),
    )
    assert len(joined) == len(orders)
    for column in ("seller_id", "category", "market"):
        assert (joined[column] == joined[f"{column}_listing"]).all()
    assert orders["order_id"].is_unique and tables["after_sales"]["order_id"].is_unique
    assert tables["reviews"]["order_id"].is_unique
    assert (orders["ordered_at"] < AS_OF).all()
