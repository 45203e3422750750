# %% [markdown]
# # 20 · Event study
#
# **What it does.** Measures how firms react to events — common shock dates (the default study's
# market-stress days) or per-firm dates such as filings — and whether the reaction differs by the
# signal known **before** the event. Abnormal returns come from a normal-return model fitted on an
# estimation window that ends before the event window (Brown & Warner 1985); the test battery is the
# cross-sectional t, Patell (1976), BMP (Boehmer, Musumeci & Poulsen 1991), the Kolari & Pynnönen
# (2010) adjustment for clustered event dates (the right test when every firm shares the date),
# the Corrado (1989) rank test and Cowan's (1992) generalized sign test. Long horizons use
# calendar-time portfolio alphas (Fama 1998).
#
# **Inputs.** `data/processed/panel.parquet`, `data/interim/benchmark.parquet`,
# `data/interim/factors.parquet`. **Outputs.** `reports/metrics/events.json`, `reports/events/*.parquet`,
# `reports/figures/events_caar.html`.

# %% tags=["parameters"]
params = None

# %%
import pandas as pd
from IPython.display import Markdown, display

from alphalab import config
from alphalab.panel import Panel
from alphalab.stages import events as stage

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
panel = Panel.load(paths.processed / "panel.parquet")
benchmark = pd.read_parquet(paths.interim / "benchmark.parquet")
factors = (
    pd.read_parquet(paths.interim / "factors.parquet")
    if (paths.interim / "factors.parquet").is_file()
    else None
)
run = stage.run_events(panel, benchmark, factors, settings, paths)
display(Markdown(run.headline))

# %% [markdown]
# ## Events and groups
# Each firm's group is its signal quantile on the last session **before** day 0 (1 = lowest
# score). Firms without a score then stay in the overall results only; excluded events are listed
# with their reason.

# %%
run.event_table

# %%
run.result.excluded

# %% [markdown]
# ## Cumulative average abnormal return by group
# Event time on the x axis, cross-sectional confidence bands.

# %%
run.figure

# %% [markdown]
# ## Test battery per window
# `kp_t` is the statistic to read when the event date is shared (it corrects BMP for
# cross-correlation); `corrado_t` is the non-parametric check.

# %%
run.result.summary

# %% [markdown]
# ## Top minus bottom group
# Welch t on CARs and on standardized CARs.

# %%
run.result.difference

# %% [markdown]
# ## Calendar-time portfolio alphas (long horizon)

# %%
run.calendar_time
