# ---
# jupyter:
#   gne:
#     requires:
#       metrics:
#       - enforcement_actions
#       - seller_ban_rate
#       - repeat_offender_rate
#       - detection_to_action_hours
#       - seller_fault_cancel_rate
#   jupytext:
#     notebook_metadata_filter: gne,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Seller risk
#
# Are malicious sellers being caught and removed this week, how fast, and are new sellers driving the risk?

# %% tags=["parameters"]
market: str = "VN"  # market code, e.g. ID
week: str = "latest"  # ISO week YYYY-Www, or latest (the last complete week)

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from gnelib import notebook
from gnelib.reporting.flagged import last_weeks_report
from gnelib.views import seller_risk, since_last_week
from gnelib.views.common import cards_table, table_html
from gnelib.viz import blocks, charts

ctx = notebook.start(market, week)

# %% [markdown]
# ## Key insights

# %%
if ctx.has_data:
    display(blocks.insight_list(seller_risk.key_insights(ctx.conn, ctx.market, ctx.week)))
    display(HTML(cards_table(seller_risk.headline_cards(ctx.conn, ctx.market, ctx.week))))
else:
    display(blocks.callout(f"There is no data for {ctx.market} in {ctx.week}, so this report has nothing to show. "
                           "Pick another week or re-run once the data has arrived.", "error", title="No data:"))

# %% [markdown]
# ## Since last week's report
#
# Findings for this market that are new this week, still flagged, or gone since last week's report, and the
# numbers that report published which the data now gives differently (late events, backfills), compared at
# the same read week and horizon.

# %%
if ctx.has_data:
    display(HTML(since_last_week.section(ctx.conn, ctx.market, ctx.week, last_weeks_report(ctx.week), (
        "enforcement_actions", "seller_ban_rate", "repeat_offender_rate", "detection_to_action_hours",
        "seller_fault_cancel_rate"))))

# %% [markdown]
# ## Enforcement this week
#
# Warnings, suspensions and bans taken this week, by reason, against the average week of the previous month.

# %%
if ctx.has_data:
    by_reason = seller_risk.enforcement_by_reason(ctx.conn, ctx.market, ctx.week)
    charts.segment_rate_chart(by_reason, dimension="reason", baseline=by_reason["period"].iloc[0],
                              current=ctx.week, title="Enforcement actions by reason", fmt="count")
    plt.show()
    summary = seller_risk.enforcement_summary(ctx.conn, ctx.market, ctx.week)
    display(HTML(table_html(summary, seller_risk.SUMMARY_COLUMNS, caption="Enforcement actions by action and reason")))

# %% [markdown]
# ## Ban rate and repeat offenders
#
# Seller ban rate: sellers banned per 1,000 active sellers. Repeat-offender rate: share of actions against a seller
# who had been actioned before. Hollow points are weeks still receiving data.

# %%
if ctx.has_data:
    health = seller_risk.seller_health(ctx.conn, ctx.market, ctx.week)
    charts.trend_chart(health["seller_ban_rate"], title="Seller ban rate (per 1,000 active sellers)", fmt="per_1k",
                       highlight=ctx.week)
    plt.show()
    charts.trend_chart(health["repeat_offender_rate"], title="Repeat-offender rate", fmt="percent",
                       highlight=ctx.week)
    plt.show()

# %% [markdown]
# ## New sellers (joined less than 30 days ago)
#
# Fraud rings usually work through fresh accounts. How much of the seller-fault cancellations and of the enforcement
# comes from sellers in their first 30 days, compared with their share of orders?

# %%
if ctx.has_data:
    cohorts = seller_risk.new_seller_cohorts(ctx.conn, ctx.market, ctx.week)
    charts.trend_chart(seller_risk.share_series(cohorts, "cancel_share"), fmt="percent", highlight=ctx.week,
                       title="New sellers' share of seller-fault cancellations")
    plt.show()
    charts.trend_chart(seller_risk.share_series(cohorts, "enforcement_share"), fmt="percent", highlight=ctx.week,
                       title="New sellers' share of enforcement actions")
    plt.show()
    recent = cohorts.sort_values("period", ascending=False).head(6)
    display(HTML(table_html(recent, seller_risk.COHORT_COLUMNS, caption="New sellers, last 6 weeks")))

# %% [markdown]
# ## Detection to action
#
# Median hours from the first signal on a seller to the enforcement action.

# %%
if ctx.has_data:
    charts.trend_chart(health["detection_to_action_hours"], title="Median hours from detection to action",
                       fmt="hours", highlight=ctx.week)
    plt.show()

# %% [markdown]
# ## Riskiest sellers this week
#
# Sellers with two or more seller-fault cancellations this week, most above what the market's rate would predict
# first, with their enforcement status. Sellers are shown by id only.

# %%
if ctx.has_data:
    risky = seller_risk.top_risky_sellers(ctx.conn, ctx.market, ctx.week)
    display(HTML(table_html(risky, seller_risk.RISKY_SELLER_COLUMNS, caption=f"Riskiest sellers, {ctx.week}")))
