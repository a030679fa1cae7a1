# ---
# jupyter:
#   gne:
#     requires:
#       experiments: true
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
# # Experiment readout
#
# Did the policy experiment work: should we ship it, can we trust the test, and what is it worth?

# %% tags=["parameters"]
experiment: str = "dispatch_sla_nudge"  # experiment name (or id) in experiment_designs, e.g. refund_fast_track
market: str = "all"  # report slot only: the experiment spans every market
week: str = "latest"  # ISO week YYYY-Www, or latest (the last complete week)
guardrail_margin: float = 0.05  # a guardrail holds only if its 95% CI rules out a relative loss above this (5%)
# Value in money: assumptions, stated beside every figure (see gnelib/analysis/value.py)
refunds_per_defect: float = 0.2  # share of avoided defects that would have ended in a refund (1 for refund_rate)
cost_per_refund_usd: float = 18.0  # refund paid plus handling, per refunded order
gmv_at_risk_per_defect_usd: float = 0.0  # GMV that would have gone to a bad actor, per defect
cost_per_defect_usd: float = 2.5  # support and re-shipping cost per defect, besides the refund
horizon_weeks: float = 52.0  # how long the effect is assumed to last

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from gnelib import notebook
from gnelib.analysis.value import ASSUMPTION_COLUMNS, TABLE_COLUMNS, Assumptions
from gnelib.views import experiment_readout
from gnelib.views.common import table_html
from gnelib.viz import blocks

ctx = notebook.start(market, week)
assumptions = Assumptions(refunds_per_defect, cost_per_refund_usd, gmv_at_risk_per_defect_usd, cost_per_defect_usd,
                          horizon_weeks)
result = experiment_readout.readout(ctx.conn, experiment, margin=guardrail_margin, assumptions=assumptions)

# %% [markdown]
# ## Key insights

# %%
display(blocks.callout(result.reason, experiment_readout.verdict_level(result),
                       title=experiment_readout.verdict_title(result)))
display(blocks.callout(result.quality, result.quality_level, title="Data quality:"))
display(blocks.insight_list(experiment_readout.key_insights(result)))

# %% [markdown]
# ## Sample-ratio check
#
# Units were meant to be split between control and treatment as designed. A split this far off by chance is rare;
# when the chi-square p-value is below 0.0005 the assignment or its logging is broken and the readout is invalid.

# %%
display(HTML(table_html(experiment_readout.srm_table(result.srm), experiment_readout.SRM_COLUMNS,
                        caption=f"Observed vs designed split (chi-square {result.srm.chi2:.1f})")))

# %% [markdown]
# ## Primary metric: raw and CUPED-adjusted
#
# The primary metric is the catalog's definition, per unit over the test's weeks. CUPED adjusts each arm for where
# its units stood in the weeks before the test: it narrows the interval, and it moves the estimate when the arms
# started apart.

# %%
if result.primary is None:
    display(blocks.callout("The effect is withheld because the sample-ratio check failed.", "error"))
else:
    display(HTML(table_html(experiment_readout.adjustment_table(result), experiment_readout.ADJUSTMENT_COLUMNS,
                            caption="Primary metric, treatment vs control")))
    display(blocks.callout(experiment_readout.adjustment_sentence(result), "info", title="Raw against adjusted:"))

# %% [markdown]
# ## Primary metric and guardrails
#
# The guardrails are the design's own. Each is judged in its metric's direction against the non-inferiority
# margin: it held steady only when its interval rules out a loss larger than the margin.

# %%
effects = experiment_readout.effects_table(result)
if not effects.empty:
    experiment_readout.effect_chart(effects)
    plt.show()
    display(HTML(table_html(effects, experiment_readout.EFFECT_COLUMNS, caption="CUPED-adjusted effects")))

# %% [markdown]
# ## Value in money
#
# The primary effect if shipped to every unit in the test, per year and over the assumed horizon. The interval is
# the effect's; the assumptions below are not uncertain in it, so change them to see their weight.

# %%
if result.primary is None:
    display(blocks.callout("No value in money: the effect is withheld.", "error"))
elif result.money is not None:
    display(blocks.callout(result.money.sentence("If shipped to every unit in the test, the treatment"), "info"))
    display(HTML(table_html(result.money.table(), TABLE_COLUMNS, caption="Value of the primary effect")))
    display(HTML(table_html(result.money.assumptions_table(), ASSUMPTION_COLUMNS, caption="Assumptions")))
