# %% [markdown]
# # 10 · Portfolio-sort backtest
#
# **What it does.** Sorts stocks on the point-in-time signal into equal-count groups on every
# rebalance date (1 = lowest score), holds them (overlapping cohorts when `holding > 1`, as in
# Jegadeesh & Titman 1993), and tracks each group and the long-short (top minus bottom) gross and
# net of trading costs. The timing is exact: a score on row t is known at the close of t; the
# portfolio trades at the close of t + `lag` and earns returns from the next session on — never at
# the signal's own close unless `lag: 0` is chosen deliberately.
#
# Statistics: annualized return and volatility, Sharpe (arithmetic mean excess return over its sd
# × √252), Newey & West (1987) t-statistics, drawdowns, tails, turnover and the break-even cost;
# monthly factor alphas against CAPM, Fama & French (1993) and Carhart (1997) over the months the
# embedded factors cover; and the alphalens-style view (mean forward return by group and horizon,
# rank IC).
#
# **Inputs.** `data/processed/panel.parquet`, `data/interim/benchmark.parquet`,
# `data/interim/factors.parquet`. **Outputs.** `reports/metrics/backtest.json`,
# `reports/backtest/*.parquet`, `reports/figures/backtest_*.html`, `reports/tables/backtest.{html,tex}`.

# %% tags=["parameters"]
params = None

# %%
import pandas as pd
from IPython.display import Markdown, display

from alphalab import config
from alphalab.panel import Panel
from alphalab.stages import backtest as stage

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
panel = Panel.load(paths.processed / "panel.parquet")
benchmark = pd.read_parquet(paths.interim / "benchmark.parquet")
factors_file = paths.interim / "factors.parquet"
factors = pd.read_parquet(factors_file) if factors_file.is_file() else None
run = stage.run_backtest(panel, benchmark, factors, settings, paths)
display(Markdown(run.headline))

# %% [markdown]
# ## Performance by group
# Gross and net of costs; `t_nw` is the Newey–West t of the mean raw return.

# %%
run.stats[
    [
        "n_obs",
        "ann_return",
        "ann_vol",
        "sharpe",
        "t_nw",
        "max_drawdown",
        "hit_rate",
        "skew",
        "kurtosis",
        "turnover",
        "break_even_bps",
    ]
]

# %%
run.figures["cumulative"]

# %%
run.figures["drawdown"]

# %% [markdown]
# ## Factor alphas (monthly)
# Each row names the months it uses: the embedded momentum factor ends in 2017-03, FF3 in 2018-11.
# The long-short is a zero-cost portfolio and is not reduced by the risk-free rate.

# %%
run.alphas

# %% [markdown]
# ## Mean forward return by group and horizon, and the rank IC
# Bands are 95% Newey–West intervals with at least h − 1 lags for horizon h.

# %%
run.figures["group_means"]

# %%
run.figures["ic"]

# %% [markdown]
# ## Dimensions: each one's own long-short, and how they co-move
# Every dimension sorted on its own with the same engine and settings (top minus bottom of the
# dimension as stored), and the average cross-sectional correlation between dimensions.

# %%
run.dimensions[["dimension", "series", "n_obs", "ann_return", "sharpe", "t_nw"]]

# %%
run.dimension_corr.round(3)

# %% [markdown]
# ## Conventions
# The exact timing, rebalance, cost and delisting rules as the engine applied them.

# %%
run.sort.conventions
