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
# # Goals
#
# Are we on course for the targets agreed with the business, and which markets hold them back?

# %% tags=["parameters"]
market: str = "all"  # all for every goal, or a market code such as ID (its goals and the global ones)
week: str = "latest"  # ISO week like 2026-W47, or latest (the last complete week)

# %%
import html

import matplotlib.pyplot as plt
from IPython.display import HTML, display

from gnelib import notebook
from gnelib.views import goals as view
from gnelib.viz.blocks import insight_list

ctx = notebook.start(market, week)
progress = view.progress_of(ctx.conn, view.goals_for(ctx.conn, market), ctx.week)

# %% [markdown]
# ## Key insights
#
# Each goal's status by one rule: **on track** when the projection for the deadline week meets the target, **at risk** when only its 80% prediction interval reaches it, **off track** otherwise.

# %%
display(insight_list(view.key_insights(progress), empty="No goals are set (parameters/goals/*.yaml)."))

# %% [markdown]
# ## Progress to target
#
# *Start* is the metric's level in the 4 weeks up to the goal's start week and *now* its level in the last 4 weeks old enough to be complete (metrics whose events arrive late, such as refunds, are read once their maturity window has passed). A target written as a change (say 10% down) is taken from the start level. *Progress* is the share of the way from start to target covered so far, from -100% (moved away by the whole planned change) to 100%: *reached* at or past the target, *< -100%* when the metric moved away by more than the planned change, *met at start* when the start level already met the target. The projection is Holt's damped trend fitted on the last 26 such weeks.

# %%
if progress:
    display(HTML(view.progress_table(progress)))

# %% [markdown]
# ## Trajectories
#
# Each goal's weekly values, the projection to its deadline with the 80% and 95% prediction intervals (shaded), and the target (dotted). For a goal across all markets, the table below its chart splits the gap to the target by market: a market's part is its weight (its share of the metric's denominator, such as orders) times its distance to the target, so the parts add up to the whole gap; positive parts hold the goal back.

# %%
for item in progress:
    display(HTML(f"<h3>{html.escape(item.goal.title)}</h3>"))
    view.trajectory_chart(item)
    plt.show()
    if item.goal.is_global and item.current is not None:
        display(HTML(view.gap_table(ctx.conn, item)))
