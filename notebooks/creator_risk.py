# ---
# jupyter:
#   gne:
#     requires:
#       metrics:
#       - creator_order_defect_rate
#       - creator_violation_rate
#       - struck_creator_gmv_share
#       - creator_appeal_overturn_rate
#       - hours_to_act_on_reported_creator
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
# # Creator risk
#
# Are the creators who sell through live streams and short videos driving bad orders or breaking content policy
# this week, are we acting on them quickly, and which creators need a look?

# %% tags=["parameters"]
market: str = "TH"  # market code, e.g. ID
week: str = "latest"  # ISO week YYYY-Www, or latest (the last complete week)

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from gnelib import notebook
from gnelib.reporting.flagged import last_weeks_report
from gnelib.views import creator_risk, since_last_week
from gnelib.views.common import cards_table, table_html
from gnelib.viz import blocks, charts

ctx = notebook.start(market, week)

# %% [markdown]
# ## Key insights

# %%
if ctx.has_data:
    display(blocks.insight_list(creator_risk.key_insights(ctx.conn, ctx.market, ctx.week)))
    display(HTML(cards_table(creator_risk.headline_cards(ctx.conn, ctx.market, ctx.week))))
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
    display(HTML(since_last_week.section(ctx.conn, ctx.market, ctx.week, last_weeks_report(ctx.week),
                                         creator_risk.HEALTH_METRICS)))

# %% [markdown]
# ## Orders creators drive
#
# Defect rate of creator-driven orders (a not-as-described claim, a negative review or a seller-fault
# cancellation) by creator tier, this week against the average of the previous four, and its trend. Hollow points
# are weeks still receiving data.

# %%
if ctx.has_data:
    tiers = creator_risk.by_tier(ctx.conn, "creator_order_defect_rate", ctx.market, ctx.week)
    charts.segment_rate_chart(tiers, dimension="creator_tier", baseline=tiers["period"].iloc[0], current=ctx.week,
                              title="Creator-driven order defect rate by creator tier", fmt="percent")
    plt.show()
    health = creator_risk.creator_health(ctx.conn, ctx.market, ctx.week)
    charts.trend_chart(health["creator_order_defect_rate"], title="Creator-driven order defect rate",
                       fmt="percent", highlight=ctx.week)
    plt.show()

# %% [markdown]
# ## Creator content and strikes
#
# Creator violation rate: share of reviewed live streams and short videos removed. Share of creator GMV from
# creators with active strikes: creator-driven GMV whose creator had a strike in force when the order was placed.

# %%
if ctx.has_data:
    tiers = creator_risk.by_tier(ctx.conn, "creator_violation_rate", ctx.market, ctx.week)
    charts.segment_rate_chart(tiers, dimension="creator_tier", baseline=tiers["period"].iloc[0], current=ctx.week,
                              title="Creator violation rate by creator tier", fmt="percent")
    plt.show()
    charts.trend_chart(health["struck_creator_gmv_share"], title="Share of creator GMV from creators with active strikes",
                       fmt="percent", highlight=ctx.week)
    plt.show()

# %% [markdown]
# ## Acting on reported creators
#
# Median hours from the report or flag of a creator's content to the warning or strike, and the share of
# decided creator appeals that overturned the action.

# %%
if ctx.has_data:
    charts.trend_chart(health["hours_to_act_on_reported_creator"], title="Median hours to act on a reported creator",
                       fmt="hours", highlight=ctx.week)
    plt.show()
    charts.trend_chart(health["creator_appeal_overturn_rate"], title="Creator appeal overturn rate", fmt="percent",
                       highlight=ctx.week)
    plt.show()

# %% [markdown]
# ## Riskiest creators this week
#
# Creators whose orders this week had two or more defects, most above what the market's rate would predict first,
# with their content removals this week and their latest enforcement. Creators are shown by id only.

# %%
if ctx.has_data:
    risky = creator_risk.top_risky_creators(ctx.conn, ctx.market, ctx.week)
    display(HTML(table_html(risky, creator_risk.RISKY_CREATOR_COLUMNS, caption=f"Riskiest creators, {ctx.week}")))
