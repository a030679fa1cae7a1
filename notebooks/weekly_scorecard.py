# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: gne,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Weekly GNE scorecard
#
# Every governance and experience metric for one market and week: what moved, whether the move is real, and why.

# %% tags=["parameters"]
market: str = "ID"  # market code, e.g. ID; see `gne warehouse info`
week: str = "latest"  # ISO week like 2026-W47, or latest (the last complete week)

# %%
import html

from IPython.display import HTML, display

from gnelib import notebook
from gnelib.reporting.flagged import deep_dive_anchors, last_weeks_report
from gnelib.views import scorecard as view
from gnelib.views import since_last_week
from gnelib.viz.blocks import insight_list

ctx = notebook.start(market, week)
card = view.build_scorecard(ctx.conn, market, ctx.week) if ctx.has_data else None

# %% [markdown]
# ## Key insights
#
# The changes that matter this week, most important first. Each metric is judged in every market and in every
# segment of this market against its own history (how much it usually moves from week to week), and the confidence is
# adjusted for all the markets and segments scanned, so a change shown here reads the same in every report.

# %%
if card is None:
    display(HTML(f"<p>No data for {html.escape(ctx.market)} in {ctx.week}: no scorecard.</p>"))
else:
    display(insight_list(card.insights, empty="No metric moved significantly or unusually this week."))

# %% [markdown]
# ## Since last week's report
#
# Findings for this market that are new this week, still flagged, or gone since last week's report, and the
# numbers that report published which the data now gives differently (late events, backfills), compared at
# the same read week and horizon.

# %%
if card is not None:
    display(HTML(since_last_week.section(ctx.conn, ctx.market, ctx.week, last_weeks_report(ctx.week))))

# %% [markdown]
# ## Scorecard by pillar
#
# *Usual level* is the metric's level over the previous 12 weeks, leaving out weeks that were themselves unusual, and
# *change* is against it; ▲ blue is better and ▼ orange is worse, marked only when the change is flagged: significant
# after adjusting for every market and segment scanned, material, and (for maturing metrics) comparable. *Status*
# says when a change is sustained ("still elevated, week 2"), a drift ("rising for 4 weeks"), or sits in one segment.
# Metrics whose events arrive late (refunds, claims, reviews, appeals, deliveries, dispatch, tracking) are read in the newest week old enough and compared at a fixed horizon: see their status.

# %%
if card is not None:
    links = deep_dive_anchors(ctx.market, ctx.week)
    for pillar, heading in view.groups().items():
        display(HTML(f"<h3 id='pillar-{pillar}'>{heading}</h3>"))
        display(HTML(view.pillar_table(card, pillar, links)))

# %% [markdown]
# ## Progress to target
#
# The goals agreed for this market and for all markets (parameters/goals/): where each metric started, where it
# is now (4-week levels), and whether the damped-trend projection reaches the target by the deadline. The goals
# report has each goal's trajectory and the markets that hold a global goal back.

# %%
if card is not None:
    from gnelib.views.goals import scorecard_section

    display(HTML(scorecard_section(ctx.conn, ctx.market, ctx.week)))
