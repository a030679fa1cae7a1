# ---
# jupyter:
#   gne:
#     requires:
#       metrics:
#       - refund_rate
#       - counterfeit_claim_rate
#       - not_as_described_rate
#       - dispute_escalation_rate
#       - dispute_seller_win_rate
#       - median_hours_to_refund
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
# # After-sales: make it right
#
# How often buyers need a refund or return this week, why, whether disputes and refund times are under control, and
# which categories and channels drive it.

# %% tags=["parameters"]
market: str = "ID"  # market code, e.g. ID
week: str = "latest"  # ISO week YYYY-Www, or latest (the last complete week)

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from gnelib import notebook
from gnelib.reporting.flagged import last_weeks_report
from gnelib.views import after_sales, since_last_week
from gnelib.views.common import cards_table, table_html
from gnelib.viz import blocks, charts

ctx = notebook.start(market, week)
plan = after_sales.read_plan(ctx.conn, ctx.week)

# %% [markdown]
# ## Key insights

# %%
if ctx.has_data:
    display(blocks.insight_list(after_sales.key_insights(ctx.conn, ctx.market, ctx.week)))
    if plan.note:  # after the finding: the first screen opens on what happened
        display(blocks.callout(plan.note, "warning", title="Recent weeks are still maturing:"))
    display(HTML(cards_table(after_sales.headline_cards(ctx.conn, ctx.market, plan))))
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
                                         (*after_sales.ORDER_METRICS, *after_sales.REQUEST_METRICS))))

# %% [markdown]
# ## Refund rate
#
# Share of non-cancelled orders refunded, by the week the order was placed. The first chart counts every refund known
# today (hollow points: weeks still receiving refunds, so their value will rise); the second counts only refunds within
# the same number of days after every order, so the weeks compare like with like.

# %%
if ctx.has_data:
    trends = after_sales.refund_trends(ctx.conn, ctx.market, plan)
    charts.trend_chart(trends["as_of_today"], title="Refund rate, as counted today", fmt="percent",
                       highlight=ctx.week)
    plt.show()
    if plan.horizon_days:
        charts.trend_chart(trends["fixed_horizon"], fmt="percent", highlight=plan.read_week,
                           title=f"Refund rate within {plan.horizon_days} days of the order")
        plt.show()

# %% [markdown]
# ## By category and channel
#
# Refund rate of the read week against the previous 4 weeks, at the same horizon.

# %%
if ctx.has_data:
    categories = after_sales.refund_by(ctx.conn, ctx.market, plan, "category")
    charts.segment_rate_chart(categories, dimension="category", baseline=categories["period"].iloc[0],
                              current=plan.read_week, title="Refund rate by category", fmt="percent")
    plt.show()
    channels = after_sales.refund_by(ctx.conn, ctx.market, plan, "channel")
    display(HTML(table_html(after_sales.segment_table(channels, "channel", plan.read_week),
                            after_sales.SEGMENT_COLUMNS, caption=f"Refund rate by channel, {plan.read_week}")))

# %% [markdown]
# ## Requests: return or refund, and why
#
# After-sales requests made this week by type and reason, against the previous 4 weeks.

# %%
if ctx.has_data:
    mix = after_sales.request_mix(ctx.conn, ctx.market, ctx.week)
    display(HTML(table_html(mix, after_sales.MIX_COLUMNS, caption=f"After-sales requests made in {ctx.week}")))

# %% [markdown]
# ## Disputes and time to refund
#
# Share of requests escalated to a platform dispute, share of decided disputes the seller won, and the median hours
# from request to refund, by the week of the request.

# %%
if ctx.has_data:
    requests = after_sales.request_trends(ctx.conn, ctx.market, ctx.week)
    charts.trend_chart(requests["dispute_escalation_rate"], title="Dispute escalation rate", fmt="percent",
                       highlight=ctx.week)
    plt.show()
    charts.trend_chart(requests["dispute_seller_win_rate"], title="Disputes won by the seller", fmt="percent",
                       highlight=ctx.week)
    plt.show()
    charts.trend_chart(requests["median_hours_to_refund"], title="Median hours from request to refund", fmt="hours",
                       highlight=ctx.week)
    plt.show()
