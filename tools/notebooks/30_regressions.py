# %% [markdown]
# # 30 · Panel and Fama–MacBeth regressions
#
# **What it does.** Regresses next-period returns on the signal (and, where declared, on each of
# its dimensions) at the study's frequency: panel OLS with entity and/or time effects and
# clustered or Driscoll–Kraay standard errors (Petersen 2009; Thompson 2011; Driscoll & Kraay 1998),
# and Fama & MacBeth (1973) cross-sectional regressions with Newey–West standard errors over the
# slope series and the average R². The dimension horse race enters each dimension alone and all
# together on the same rows.
#
# Timing: the score is sampled on the last session of each period (known at that close) and the
# forward return compounds the sessions strictly after it (plus `backtest.lag`).
#
# **Inputs.** `data/processed/panel.parquet`. **Outputs.** `reports/metrics/regressions.json`,
# `reports/regressions/*.parquet`, `reports/tables/regressions.{html,tex}`.

# %% tags=["parameters"]
params = None

# %%
from IPython.display import Markdown, display

from alphalab import config
from alphalab.panel import Panel
from alphalab.stages import regressions as stage

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
panel = Panel.load(paths.processed / "panel.parquet")
run = stage.run_regressions(panel, settings, paths)
display(Markdown(run.headline))

# %% [markdown]
# ## Coefficients
# One row per model and term; `cov` says how the standard errors were computed.

# %%
run.coefficients

# %% [markdown]
# ## Dimension horse race

# %%
run.horse_race

# %% [markdown]
# ## Fama–MacBeth slopes over time
# The per-period slope on the signal; its mean is the Fama–MacBeth estimate.

# %%
run.figure
