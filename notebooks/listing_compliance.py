# ---
# jupyter:
#   gne:
#     requires:
#       metrics:
#       - listing_violation_rate
#       - proactive_detection_share
#       - violating_prevalence
#       - appeal_overturn_rate
#       - listings_removed
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
# # Listing compliance
#
# Are listings on the marketplace policy compliant this week: how many violate policy, how much of it our models
# catch before buyers report it, and are our removals fair (appeals overturned)?

# %% tags=["parameters"]
market: str = "MY"  # market code, e.g. ID
week: str = "latest"  # ISO week YYYY-Www, or latest (the last complete week)

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from gnelib import notebook
from gnelib.reporting.flagged import last_weeks_report
from gnelib.views import listing_compliance, since_last_week
from gnelib.views.common import cards_table, table_html
from gnelib.viz import blocks, charts

ctx = notebook.start(market, week)

# %% [markdown]
# ## Key insights

# %%
if ctx.has_data:
    display(blocks.insight_list(listing_compliance.key_insights(ctx.conn, ctx.market, ctx.week)))
    display(HTML(cards_table(listing_compliance.headline_cards(ctx.conn, ctx.market, ctx.week))))
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
        "listing_violation_rate", "proactive_detection_share", "violating_prevalence", "appeal_overturn_rate",
        "listings_removed"))))

# %% [markdown]
# ## Violations by policy
#
# Listings removed this week for each policy, as a share of all listings reviewed, against the previous 4 weeks.

# %%
if ctx.has_data:
    policies = listing_compliance.violations_by_policy(ctx.conn, ctx.market, ctx.week)
    segments = listing_compliance.policy_segments(policies, ctx.week)
    charts.segment_rate_chart(segments, dimension="policy_violated", baseline=segments["period"].iloc[0],
                              current=ctx.week, title="Share of reviewed listings removed, by policy", fmt="percent")
    plt.show()
    display(HTML(table_html(policies, listing_compliance.POLICY_COLUMNS, caption="Removals by policy")))

# %% [markdown]
# ## Violation rate by category
#
# Share of reviewed listings that were removed, for the categories with the most reviews this week.

# %%
if ctx.has_data:
    categories = listing_compliance.violation_rate_by_category(ctx.conn, ctx.market, ctx.week)
    charts.segment_rate_chart(categories, dimension="category", baseline=categories["period"].iloc[0],
                              current=ctx.week, title="Listing violation rate by category", fmt="percent")
    plt.show()

# %% [markdown]
# ## Proactive detection
#
# Share of removals that the proactive model found before any user report (higher is better), and the overall
# violation rate of reviewed listings.

# %%
if ctx.has_data:
    trends = listing_compliance.trends(ctx.conn, ctx.market, ctx.week)
    charts.trend_chart(trends["proactive_detection_share"], title="Proactive detection share", fmt="percent",
                       highlight=ctx.week)
    plt.show()
    charts.trend_chart(trends["listing_violation_rate"], title="Listing violation rate", fmt="percent",
                       highlight=ctx.week)
    plt.show()

# %% [markdown]
# ## Appeals overturned, by detection source
#
# When a seller's appeal against a removal succeeds, the removal was wrong. A rising overturn rate for one detection
# source points at that source. This week is compared with eight settled weeks ending a month earlier; appeals take
# up to three weeks to decide, so recent weeks are provisional.

# %%
if ctx.has_data:
    overturns = listing_compliance.overturn_by_source(ctx.conn, ctx.market, ctx.week)
    if overturns.empty:
        display(blocks.callout("No appeals have been decided yet for this week's removals.", "info"))
    else:
        segments = listing_compliance.overturn_segments(overturns, ctx.week)
        charts.segment_rate_chart(segments, dimension="detection_source", baseline=segments["period"].iloc[0],
                                  current=ctx.week, title="Appeal overturn rate by detection source", fmt="percent")
        plt.show()
        display(HTML(table_html(overturns, listing_compliance.OVERTURN_COLUMNS,
                                caption="Appeal overturn rate by detection source")))

# %% [markdown]
# ## Prevalence (audit sample)
#
# Every week a random sample of live listings is audited; the share found violating estimates how much of the
# catalog violates policy. Samples are small, so each week comes with a 95% confidence interval (Wilson).

# %%
if ctx.has_data:
    audit = listing_compliance.prevalence(ctx.conn, ctx.market, ctx.week)
    charts.trend_chart(audit, title="Violating listing prevalence (audit sample)", fmt="percent", highlight=ctx.week)
    plt.show()
    recent = audit.sort_values("period", ascending=False).head(6)
    display(HTML(table_html(recent, listing_compliance.PREVALENCE_COLUMNS, caption="Prevalence, last 6 weeks")))
