# ---
# jupyter:
#   gne:
#     requires:
#       policies: true
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
# # Policy impact
#
# What did each governance policy change, measured against the markets that had not launched it yet?
# Policies are launched market by market, not randomised: a policy launched in several markets is read with
# staggered difference-in-differences (Callaway–Sant'Anna), a single-market launch with synthetic control.

# %% tags=["parameters"]
policy: str = "all"  # a policy in the policy-launch table, or all
market: str = "all"  # report slot only: a policy spans the markets that launched it
week: str = "latest"  # ISO week YYYY-Www, or latest (the last complete week): the last week used
# Value in money: assumptions, stated beside every figure (see gnelib/analysis/value.py); with policy: all
# the same assumptions apply to every policy (run one policy at a time to give each its own)
refunds_per_defect: float = 0.2  # share of avoided defects that would have ended in a refund
cost_per_refund_usd: float = 18.0  # refund paid plus handling, per refunded order
gmv_at_risk_per_defect_usd: float = 0.0  # GMV that would have gone to a bad actor, per defect
cost_per_defect_usd: float = 2.5  # support and re-shipping cost per defect, besides the refund
horizon_weeks: float = 52.0  # how long the effect is assumed to last

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, Markdown, display

from gnelib import notebook
from gnelib.analysis.value import ASSUMPTION_COLUMNS, TABLE_COLUMNS, Assumptions
from gnelib.views import policy_impact
from gnelib.views.common import table_html
from gnelib.viz import blocks

ctx = notebook.start(market, week)
assumptions = Assumptions(refunds_per_defect=refunds_per_defect, cost_per_refund_usd=cost_per_refund_usd,
                          gmv_at_risk_per_defect_usd=gmv_at_risk_per_defect_usd,
                          cost_per_defect_usd=cost_per_defect_usd, horizon_weeks=horizon_weeks)
names = policy_impact.policy_names(ctx.conn) if policy == "all" else [policy]
results = [policy_impact.impact(ctx.conn, name, ctx.week) for name in names]

# %% [markdown]
# ## Key insights

# %%
for result in results:
    display(blocks.callout(policy_impact.headline(result), "warning" if result.problems else "info",
                           title=f"{result.policy} ({result.method})"))

# %% [markdown]
# ## Effect by week since launch, and the design checks
#
# Before launch the effect should hover around zero (the launched markets moved like the others); after launch
# it is the policy's effect. The checks say whether the comparison can be trusted: pre-launch trends, placebo
# launches and enough control markets (difference-in-differences), or a synthetic market that tracks the real one
# before launch and placebo markets (synthetic control). A single-market launch among eight markets can never
# reach a placebo-in-space p-value below 1/8; its interval comes from the conformal permutation test.

# %%
for result in results:
    display(Markdown(f"### {result.policy}: {result.metric.title}"))
    if result.estimated:
        policy_impact.event_chart(result)
        plt.show()
    display(HTML(table_html(policy_impact.checks_table(result), policy_impact.CHECK_COLUMNS,
                            caption=f"Design checks for {result.policy}")))

# %% [markdown]
# ## Value in money
#
# Each effect turned into defects, refunds and costs avoided per year over the launched markets' weekly volume.
# The interval carries the effect's uncertainty; the assumptions (template parameters) are listed below it.

# %%
for result in results:
    value = policy_impact.money(result, assumptions)
    if value is None:
        display(blocks.callout(f"No value in money for {result.policy}: the design does not hold.", "warning"))
        continue
    display(blocks.callout(value.sentence(f"The {result.policy} policy"), "info"))
    display(HTML(table_html(value.table(), TABLE_COLUMNS, caption=f"{result.policy}: value per year")))
    display(HTML(table_html(value.assumptions_table(), ASSUMPTION_COLUMNS, caption="Assumptions")))
