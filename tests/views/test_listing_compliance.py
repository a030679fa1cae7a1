"""Listing-compliance views against pandas recomputations on the raw small warehouse."""

import math

import pytest

from gnelib.periods import trailing_weeks
from gnelib.views import listing_compliance
from gnelib.views.common import reference_weeks

WEEK = "2026-W47"  # the last complete week of the demo warehouse


def wilson(successes: float, trials: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval written out from its formula (Wilson 1927)."""
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return centre - half, centre + half


@pytest.mark.parametrize("market", ["MY", "GB"])
def test_violations_by_policy_match_raw_reviews(conn, raw, market):
    reviews = raw["listing_moderation"][raw["listing_moderation"]["market"] == market]
    table = listing_compliance.violations_by_policy(conn, market, WEEK).set_index("policy_violated")
    now = reviews[reviews["week"] == WEEK]
    before = reviews[reviews["week"].isin(trailing_weeks(WEEK, 4))]
    removed_now = now[now["decision"] == "removed"].groupby("policy_violated").size()
    removed_before = before[before["decision"] == "removed"].groupby("policy_violated").size()
    for policy in removed_now.index.union(removed_before.index):
        assert table.loc[policy, "removals"] == removed_now.get(policy, 0)
        assert table.loc[policy, "baseline_removals"] == pytest.approx(removed_before.get(policy, 0) / 4)
        assert table.loc[policy, "rate"] == pytest.approx(removed_now.get(policy, 0) / len(now))
        assert table.loc[policy, "baseline_rate"] == pytest.approx(removed_before.get(policy, 0) / len(before))


def test_overturn_by_source_matches_raw_appeals(conn, raw):
    reviews = raw["listing_moderation"][raw["listing_moderation"]["market"] == "MY"]
    decided = reviews[(reviews["decision"] == "removed") & reviews["appealed"].fillna(False)
                      & reviews["appeal_overturned"].notna()]
    table = listing_compliance.overturn_by_source(conn, "MY", WEEK).set_index("detection_source")
    reference = reference_weeks(WEEK, listing_compliance.REFERENCE_WEEKS)
    for source, row in table.iterrows():
        mine = decided[decided["detection_source"] == source]
        now, before = mine[mine["week"] == WEEK], mine[mine["week"].isin(reference)]
        assert row["decided"] == len(now)
        assert row["overturned"] == now["appeal_overturned"].astype(bool).sum()
        assert row["baseline_decided"] == len(before)
        assert row["baseline_rate"] == pytest.approx(before["appeal_overturned"].astype(bool).mean())


def test_proactive_overturn_regression_is_flagged_in_my(conn):
    table = listing_compliance.overturn_by_source(conn, "MY", "2026-W46").set_index("detection_source")
    assert table.loc["proactive_model", "rate"] > 2 * table.loc["proactive_model", "baseline_rate"]
    assert table.loc["proactive_model", "significant"]


def test_prevalence_has_wilson_intervals_from_the_audit_sample(conn, raw):
    reviews = raw["listing_moderation"]
    audits = reviews[(reviews["market"] == "VN") & (reviews["detection_source"] == "audit")]
    frame = listing_compliance.prevalence(conn, "VN", WEEK, history=4).set_index("period")
    for week in trailing_weeks(WEEK, 4, include_current=True):
        mine = audits[audits["week"] == week]
        violating = (mine["decision"] == "removed").sum()
        low, high = wilson(violating, len(mine))
        assert frame.loc[week, "audited"] == len(mine)
        assert frame.loc[week, "violating"] == violating
        assert (frame.loc[week, "ci_low"], frame.loc[week, "ci_high"]) == pytest.approx((low, high))
