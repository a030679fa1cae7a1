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
# # Metric deep dive
#
# Did the metric really move in this market and week? Which segments moved it, and was it a mix shift (volume moved
# to riskier segments) or a rate change (segments got worse)? Is the week unusual against its own history?

# %% tags=["parameters"]
market: str = "ID"  # market code, e.g. ID; see `gne warehouse info`
metric: str = "refund_rate"  # a catalog metric name; see `gne metrics list`
week: str = "latest"  # ISO week like 2026-W47, or latest (the last complete week)

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, Markdown, display

from gnelib import metrics, notebook
from gnelib.analysis.deep_dive import deep_dive
from gnelib.analysis.errors import AnalysisError
from gnelib.reporting.flagged import last_weeks_report
from gnelib.views import deep_dive as view
from gnelib.views import since_last_week
from gnelib.viz import charts
from gnelib.viz.blocks import callout, cards, insight_list

ctx = notebook.start(market, week)
definition = metrics.get(metric)
result, problem = None, f"There is no data for {ctx.market} in {ctx.week}, so there is nothing to explain."
if ctx.has_data:
    try:
        result = deep_dive(ctx.conn, definition, market, ctx.week)
    except AnalysisError as error:  # e.g. a sparse metric with no events in the comparison week
        problem = f"This metric cannot be compared here: {error}"
display(Markdown(f"**{definition.title}** ({definition.pillar.replace('_', ' ')}): {definition.description}"))

# %% [markdown]
# ## Key insights

# %%
if result is None:
    display(callout(problem, "warning", "No comparison."))
else:
    display(cards(view.headline_cards(result)))
    display(insight_list(result.insights))

# %% [markdown]
# ## Since last week's report
#
# Findings for this market that are new this week, still flagged, or gone since last week's report, and the
# numbers that report published which the data now gives differently (late events, backfills), compared at
# the same read week and horizon.

# %%
if result is not None:
    display(HTML(since_last_week.section(ctx.conn, ctx.market, ctx.week, last_weeks_report(ctx.week), [metric])))

# %% [markdown]
# ## Trend
#
# The last 26 weeks. Hollow points are weeks still maturing (late events are still arriving); orange diamonds are the weeks
# the weekly scan flagged (unusual against the usual weeks before them).

# %%
if result is not None:
    flagged = result.series.loc[result.series["flag"].astype(bool), "period"].tolist()
    charts.trend_chart(result.series, title=f"{definition.title} in {market}, weekly", fmt=definition.format,
                       highlight=ctx.week, anomalies=flagged)
    plt.show()

# %% [markdown]
# ## Which segments explain the change
#
# Segments ranked by how much of the change they explain. *Mix* means volume moved towards or away from the
# segment; *rate* means the segment's own rate changed.

# %%
if result is not None:
    display(HTML(view.root_cause_summary(result)))
    display(HTML(view.root_cause_table(result)))

# %% [markdown]
# ## Which sellers carry the change
#
# Whether a few sellers carry most of the change, compared with their share of the volume.

# %%
if result is not None:
    display(HTML(view.concentration_summary(result)))
    display(HTML(view.concentration_table(result)))

# %% [markdown]
# ## Contributions, dimension by dimension
#
# For rates: the *mix* effect (volume moving between segments) and the *rate* effect (segments
# getting worse or better). For counts and sums: each segment's own change.

# %%
if result is not None:
    for dimension in view.ranked_dimensions(result)[:3]:
        display(Markdown(f"### By {dimension.replace('_', ' ')}"))
        table = result.decompositions[dimension]
        charts.contribution_chart(table, label=dimension, parts=view.decomposition_parts(result),
                                  title=f"Contribution to the change by {dimension.replace('_', ' ')}",
                                  fmt=definition.format)
        plt.show()
        display(HTML(view.decomposition_table(result, dimension)))

# %% [markdown]
# ## How the metric is defined

# %%
display(HTML(view.definition_table(definition)))
