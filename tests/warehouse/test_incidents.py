"""Each planted incident is visible in an independent pandas recomputation from the raw rows; quiet markets
and weeks are flat. Rates use censoring-robust definitions (fixed horizons, or 'still not done past the
deadline' counted as late) so that immature recent weeks compare like with like."""

import numpy as np
import pandas as pd
import pytest
from warehouse_reference import AS_OF

BASELINE_WEEKS = [f"2026-W{w}" for w in range(36, 44)]  # W36..W43: quiet everywhere
QUIET_MARKETS = ["US", "GB", "SG"]
RECENT_WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def rate(frame: pd.DataFrame, flag: str) -> float:
    return float(frame[flag].mean())


def open_orders(tables) -> pd.DataFrame:
    orders = tables["orders"]
    return orders[orders["cancelled_at"].isna()]


def with_late_dispatch(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders whose dispatch deadline has passed, flagged late if shipped after it or still unshipped."""
    due = orders[orders["promised_ship_by"] < AS_OF].copy()
    due["late"] = (due["shipped_at"] > due["promised_ship_by"]) | due["shipped_at"].isna()
    return due


def with_late_delivery(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders whose delivery date has passed, flagged late if delivered after it or still undelivered."""
    due = orders[orders["promised_delivery_by"] < AS_OF].copy()
    due["late"] = (due["delivered_at"] > due["promised_delivery_by"]) | due["delivered_at"].isna()
    return due


def with_claims(tables, horizon_days: int = 7) -> pd.DataFrame:
    """Delivered orders (delivered at least `horizon_days` before as-of) with their claim reason within the
    horizon after delivery."""
    orders = tables["orders"]
    delivered = orders[orders["delivered_at"] <= AS_OF - pd.Timedelta(days=horizon_days)]
    claims = tables["after_sales"][["order_id", "reason", "requested_at"]]
    merged = delivered.merge(claims, on="order_id", how="left")
    in_horizon = merged["requested_at"] <= merged["delivered_at"] + pd.Timedelta(days=horizon_days)
    merged["counterfeit"] = in_horizon & (merged["reason"] == "counterfeit")
    merged["nad"] = in_horizon & merged["reason"].isin(["not_as_described", "counterfeit"])
    merged["claim"] = in_horizon
    return merged


def test_counterfeit_wave_in_id_beauty(tables):
    claims = with_claims(tables)
    id_beauty = claims[(claims["market"] == "ID") & (claims["category"] == "beauty")]
    baseline = id_beauty[id_beauty["week"].isin(BASELINE_WEEKS)]
    wave = id_beauty[id_beauty["week"] == "2026-W46"]
    # planted x4; about 20 claims in the week at small scale, so allow for Poisson and seller noise
    assert rate(wave, "counterfeit") >= 2.5 * rate(baseline, "counterfeit")
    assert rate(wave, "nad") >= 1.5 * rate(baseline, "nad")
    assert rate(wave, "claim") >= 1.3 * rate(baseline, "claim")
    other_id = claims[(claims["market"] == "ID") & (claims["category"] != "beauty")]
    other_ratio = rate(other_id[other_id["week"] == "2026-W46"], "counterfeit") / rate(
        other_id[other_id["week"].isin(BASELINE_WEEKS)], "counterfeit"
    )
    assert other_ratio < 2.0


def test_logistics_delay_in_th_carrier_b(tables):
    due = with_late_delivery(open_orders(tables))
    th = due[due["market"] == "TH"]
    for carrier, group in th.groupby("carrier"):
        before = rate(group[group["week"].isin(BASELINE_WEEKS)], "late")
        during = rate(group[group["week"].isin(["2026-W45", "2026-W46"])], "late")
        if carrier == "carrier_b":
            assert before < 0.09
            assert during >= 0.28
        else:
            assert 0.6 * before <= during <= 1.6 * before


def test_fraud_ring_in_vn_new_sellers(tables):
    orders = tables["orders"].assign(seller_fault=lambda o: o["cancel_fault"].eq("seller").fillna(False))
    vn_new = orders[(orders["market"] == "VN") & (orders["seller_tenure_band"] == "<30d")]
    before = rate(vn_new[vn_new["week"].isin(BASELINE_WEEKS)], "seller_fault")
    during = rate(vn_new[vn_new["week"].isin(RECENT_WEEKS)], "seller_fault")
    assert during >= 3 * max(before, 0.01)
    vn_old = orders[(orders["market"] == "VN") & (orders["seller_tenure_band"] != "<30d")]
    assert rate(vn_old[vn_old["week"].isin(RECENT_WEEKS)], "seller_fault") < 1.5 * rate(
        vn_old[vn_old["week"].isin(BASELINE_WEEKS)], "seller_fault"
    )

    bans = tables["enforcement"]
    bans = bans[(bans["action"] == "ban") & (bans["market"] == "VN")]
    weekly = bans.groupby("week").size().reindex([f"2026-W{w}" for w in range(18, 48)], fill_value=0)
    assert weekly[["2026-W46", "2026-W47"]].min() >= 5 * max(weekly.loc[:"2026-W45"].mean(), 0.5)
    ring_bans = bans[bans["week"].isin(["2026-W46", "2026-W47"]) & (bans["reason"] == "fraud")].merge(
        tables["sellers"][["seller_id", "joined_at"]], on="seller_id"
    )
    tenure_at_ban = ring_bans["actioned_at"] - ring_bans["joined_at"]
    assert (tenure_at_ban < pd.Timedelta(days=30)).mean() >= 0.8


def test_moderation_regression_in_my_proactive(tables):
    reviews = tables["listing_moderation"]
    decided = reviews[reviews["appeal_overturned"].notna()].assign(
        overturned=lambda r: r["appeal_overturned"].astype(bool)
    )
    proactive = decided[decided["detection_source"] == "proactive_model"]
    my = proactive[proactive["market"] == "MY"]
    before = rate(my[my["week"].isin(BASELINE_WEEKS)], "overturned")
    during = rate(my[my["week"].isin(["2026-W46", "2026-W47"])], "overturned")
    assert 0.05 <= before <= 0.15
    assert during >= 2.5 * before
    quiet = proactive[proactive["market"].isin(QUIET_MARKETS)]
    assert rate(quiet[quiet["week"].isin(["2026-W46", "2026-W47"])], "overturned") < 1.6 * rate(
        quiet[quiet["week"].isin(BASELINE_WEEKS)], "overturned"
    )


def test_mix_shift_in_ph_is_mix_not_rate(tables):
    ph = with_late_dispatch(open_orders(tables).query("market == 'PH'"))
    baseline, shifted = ph[ph["week"].isin(BASELINE_WEEKS)], ph[ph["week"] == "2026-W47"]
    share_before = baseline["channel"].value_counts(normalize=True)
    share_after = shifted["channel"].value_counts(normalize=True)
    assert 0.15 <= share_before["live"] <= 0.25
    assert share_after["live"] >= 0.40

    rate_before = baseline.groupby("channel")["late"].mean()
    rate_after = shifted.groupby("channel")["late"].mean()
    volume_after = shifted.groupby("channel").size()
    design_effect = 2.0  # orders cluster by seller, so allow twice the binomial variance
    for channel in rate_before.index:
        p = rate_before[channel]
        noise = 3 * np.sqrt(design_effect * p * (1 - p) / volume_after[channel])
        assert abs(rate_after[channel] - p) <= noise, channel
    assert rate_before["live"] >= 2 * rate_before.drop("live").max()
    mix_only = float((share_after * rate_before).sum())
    overall_before = rate(baseline, "late")
    assert mix_only >= 1.25 * overall_before
    assert rate(shifted, "late") > overall_before


def weekly_series(frame: pd.DataFrame, flag: str) -> pd.Series:
    return frame.groupby("week")[flag].mean()


@pytest.mark.parametrize("market", QUIET_MARKETS)
def test_quiet_markets_stay_flat(tables, market):
    orders = open_orders(tables).query("market == @market")
    all_orders = (
        tables["orders"]
        .query("market == @market")
        .assign(seller_fault=lambda o: o["cancel_fault"].eq("seller").fillna(False))
    )
    claims = with_claims(tables).query("market == @market")
    moderation = (
        tables["listing_moderation"]
        .query("market == @market and appeal_overturned.notna()")
        .assign(overturned=lambda r: r["appeal_overturned"].astype(bool))
    )
    series = {
        "late_dispatch": (weekly_series(with_late_dispatch(orders), "late"), RECENT_WEEKS),
        "late_delivery": (weekly_series(with_late_delivery(orders), "late"), RECENT_WEEKS),
        "seller_fault_cancel": (weekly_series(all_orders, "seller_fault"), RECENT_WEEKS),
        "claims": (weekly_series(claims, "claim"), RECENT_WEEKS[:3]),
        "appeal_overturn": (weekly_series(moderation, "overturned"), ["2026-W46", "2026-W47"]),
    }
    for name, (values, recent) in series.items():
        base = values[[w for w in values.index if "2026-W30" <= w <= "2026-W43"]]
        limit = 4 * base.std() + 0.1 * base.mean()
        deviations = (values[recent] - base.mean()).abs()
        assert (deviations <= limit).all(), (name, values[recent].round(4).to_dict(), base.mean())


def test_no_incident_before_w44(tables):
    """The incident segments' weekly rates have no earlier spike of the incident's size."""
    claims = with_claims(tables)
    id_beauty = weekly_series(claims.query("market == 'ID' and category == 'beauty'"), "counterfeit")
    th_b = weekly_series(
        with_late_delivery(open_orders(tables)).query("market == 'TH' and carrier == 'carrier_b'"), "late"
    )
    early = [f"2026-W{w}" for w in range(18, 44)]
    assert id_beauty[early].max() < 3 * id_beauty[early].median()
    assert th_b[early].max() < 2.5 * th_b[early].median()
    assert tables["incidents"]["start_week"].min() >= "2026-W44"


def test_manifest_names_the_planted_incidents(tables):
    incidents = tables["incidents"].set_index("name")
    assert set(incidents.index) == {
        "counterfeit_wave",
        "logistics_delay",
        "fraud_ring",
        "moderation_regression",
        "mix_shift",
        "creator_ring",
    }
    assert not set(incidents["market"]) & set(QUIET_MARKETS)
    assert incidents.loc["mix_shift", "expected_size"] == pytest.approx(0.45)
    assert incidents.loc["counterfeit_wave", ["dimension", "dimension_value"]].tolist() == [
        "category",
        "beauty",
    ]
    catalog_names = {
        "refund_rate",
        "not_as_described_rate",
        "counterfeit_claim_rate",
        "late_delivery_rate",
        "late_dispatch_rate",
        "seller_fault_cancel_rate",
        "seller_ban_rate",
        "appeal_overturn_rate",
        "creator_order_defect_rate",
        "creator_violation_rate",
    }
    for metrics in incidents["metrics"]:
        assert set(metrics.split(",")) <= catalog_names
