# %% [markdown]
# # 40 · Robustness: how fragile is the result, and how many variants were tried?
#
# **What it does.** A backtest means little without knowing how fragile it is and how many
# variants were tried to find it. This stage:
#
# 1. **Specification grid.** Runs every variant of the study from `robustness` params — number of
#    groups, weights, lag, holding period, rebalancing, cost level, universe filter and which
#    signal dimensions enter the composite — through the same engine as the backtest, on the full
#    sample and on sub-periods, and draws the specification curve (Simonsohn, Simmons & Nelson 2020).
# 2. **Inference that respects dependence.** Stationary block-bootstrap intervals of the Sharpe
#    ratio and mean (Politis & Romano 1994; block length by Patton, Politis & White 2009); a
#    within-date permutation placebo of the signal; sub-period and stress-period breakdowns.
# 3. **Overfitting and multiple testing.** Probabilistic and deflated Sharpe ratios and the minimum
#    track record (Bailey & López de Prado 2012, 2014) with the trial count of the **trial ledger**
#    (`ledger/trials.jsonl`, kept in git: every variant ever evaluated on these data, once);
#    the probability of backtest overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu 2017);
#    Hansen's (2005) SPA and Romano–Wolf (2005) StepM over the grid; Harvey–Liu–Zhu (2016) haircuts.
#
# The grid, bootstraps and permutations run on Dask (`robustness.scheduler`: a local cluster by
# default, or a `tcp://` scheduler) with the same numbers whatever the scheduler.
#
# **Inputs.** `data/processed/panel.parquet`; params `robustness`, `backtest`, `signal`; the trial
# ledger. **Outputs.** `reports/metrics/robustness.json`, `reports/robustness/{grid.parquet,
# grid.csv, returns.parquet, placebo.parquet, periods.parquet}`,
# `reports/figures/{spec_curve,placebo_hist}.html`, new lines in `ledger/trials.jsonl`.

# %% tags=["parameters"]
params = None

# %%
import time

import pandas as pd
from IPython.display import Markdown, display

from alphalab import config
from alphalab.ledger import TrialLedger
from alphalab.panel import Panel
from alphalab.power import METRIC_KEYS as POWER_KEYS
from alphalab.power import power_from_panel
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.provenance import provenance
from alphalab.robustness import EXTRA_KEYS, run_robustness

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
rob = settings.robustness
panel = Panel.load(paths.processed / "panel.parquet")
ledger = TrialLedger(paths.resolve(rob.ledger))
display(
    Markdown(
        f"Panel **{len(panel.dates)} sessions × {len(panel.tickers)} tickers**, dimensions "
        f"{list(panel.dimensions) or 'none'}; scheduler `{rob.scheduler}` ({rob.n_workers} workers)."
    )
)

# %%
started = time.perf_counter()
result = run_robustness(
    panel,
    robustness=rob,
    backtest=settings.backtest,
    signal=settings.signal,
    params_hash=config.params_hash(settings),
    ledger=ledger,
    repo=paths.root,
)
elapsed = time.perf_counter() - started
result.save(paths)
power = power_from_panel(
    panel,
    n_groups=settings.backtest.n_groups,
    frequency=rob.power.frequency,
    lag=settings.backtest.lag,
    effect=rob.power.effect,
    n_sims=rob.power.n_sims,
    seed=rob.seed,
)
write_metrics(
    "robustness",
    {**result.metrics(), "power": power.to_metrics()},
    {**result.conventions, "elapsed_s": round(elapsed, 1)},
    paths=paths,
    provenance=provenance(paths, params=settings, stage="robustness"),
    extra_keys=EXTRA_KEYS | POWER_KEYS,
)
for note in result.notes:
    display(Markdown(f"**Note.** {note}"))
display(
    Markdown(
        f"**{result.grid.n_variants} variants** ({result.grid.n_engine_runs} engine runs) in "
        f"{elapsed:.1f} s. The ledger holds **{result.n_trials} trials** on these data "
        f"({result.n_new_trials} new in this run)."
    )
)

# %% [markdown]
# ## The study's own specification
# Net long-short of the `backtest` specification with its probabilistic Sharpe ratio (PSR, against
# zero), its deflated Sharpe ratio (DSR: against the best Sharpe ratio that the ledger's trials
# would reach by luck alone) and the minimum track record length (sessions) for 95% confidence.

# %%
m = result.metrics()
pd.DataFrame({"study specification": m["long_short"], "best grid variant": m["best_variant"]}).map(
    lambda v: f"{v:.4g}" if isinstance(v, float) else v
)

# %% [markdown]
# ## Power: how large an effect can this sample detect?
# By simulation on the study's own shape (names, periods, return volatility and cross-correlation
# estimated from the panel): the minimum long-short effect detectable at 80% power and 5% size.

# %%
display(Markdown(power.to_markdown()))

# %% [markdown]
# ## Specification curve
# Every variant's Sharpe ratio, sorted, with 95% Newey–West intervals; below, the choices that
# define each variant. The best variant (the highest Sharpe ratio among variants that pay at least
# the study's trading costs) is shown only with the number of variants tried.

# %%
result.spec_curve()

# %%
table = result.grid_table()
full = table[table["window"] == "full"]
display(
    Markdown(
        f"Best of **{result.grid.n_variants} variants** (ledger: **{result.n_trials} trials**): "
        f"`{result.best_variant}`, Sharpe {m['best_variant']['sharpe']:.2f}, DSR "
        f"{m['best_variant']['dsr']:.3f}. Share of variants with a positive Sharpe ratio: "
        f"{m['grid']['share_positive']:.0%}; with |t| > 1.96: {m['grid']['share_significant']:.0%}."
    )
)
full.sort_values("sharpe", ascending=False).head(10)

# %% [markdown]
# ## Inference: block bootstrap and the permutation placebo

# %%
pd.DataFrame({"Sharpe (ann.)": m["bootstrap_sharpe"], "mean (ann.)": m["bootstrap_mean"]})

# %%
result.placebo_figure()

# %%
pd.Series(m["placebo"], name="placebo")

# %% [markdown]
# ## Sub-periods and stress periods
# A window without data in the sample (e.g. 2023 for a sample ending in 2022) is listed with
# `n_obs` 0, not dropped.

# %%
result.periods

# %% [markdown]
# ## Overfitting and multiple testing
# PBO: probability that the in-sample best variant ranks below the median out of sample (CSCV).
# SPA: p-value of "no variant beats zero"; StepM: variants found to beat zero at the family-wise
# level. Haircuts: the study specification's Sharpe ratio after Bonferroni / Holm / BHY
# adjustment for the ledger's trials.

# %%
pd.DataFrame({k: m[k] for k in ("pbo", "spa", "stepm")}).T

# %%
pd.DataFrame({k: v for k, v in m.items() if k.startswith("haircut_")}).T
