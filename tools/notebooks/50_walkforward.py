# %% [markdown]
# # 50 · Walk-forward analysis, stress tests and the promotion gate
#
# **What it does.** A parameter chosen on the whole sample is chosen with hindsight. Here every
# parameter is chosen *in sample* and judged on data that choice never saw:
#
# 1. **Folds.** Rolling (or anchored) training windows, each followed by a test window; the last
#    `embargo` sessions before every test window are purged from training, and the embargo is at
#    least the holding horizon of every variant tried (López de Prado 2018, ch. 7).
# 2. **Choice in sample.** In each fold every variant of the parameter grid (`walkforward.grid`)
#    runs through the engine on the training rows only, and the best by the in-sample objective
#    (Sharpe, t-statistic or net return) is kept.
# 3. **Untouched test.** The chosen variant trades the test window; the windows are stitched into
#    one out-of-sample record. Walk-forward efficiency (Pardo 2008) compares it with in-sample.
# 4. **Holdout.** The sessions from `walkforward.holdout_start` on are never given to any fold;
#    they are traded once, with parameters chosen on the data before them.
# 5. **Stress tests** (crisis windows, 2×/5× costs, +1/+2 sessions of execution delay) and the
#    **promotion gate**: every criterion from params, measured, and a PASS/FAIL a reviewer signs.
#
# **Follows.** Pardo (2008), *The Evaluation and Optimization of Trading Strategies*, ch. 11–12;
# López de Prado (2018), *Advances in Financial Machine Learning*, ch. 7; Bailey & López de Prado
# (2014) for the deflated Sharpe ratio; Bailey, Borwein, López de Prado & Zhu (2017) for PBO.
#
# **Inputs.** `data/processed/panel.parquet`; params `walkforward`, `backtest`, `signal` (and the
# trial ledger at `robustness.ledger`). **Outputs.** `reports/metrics/walkforward.json`,
# `reports/walkforward/{oos_returns,folds,fold_variants,stress,trials}.parquet`,
# `reports/walkforward/folds.csv`, `reports/gate.json`, `reports/gate.md`,
# `reports/figures/wf_equity.html`, `reports/figures/wf_params.html`.

# %% tags=["parameters"]
params = None

# %%
import time

from IPython.display import Markdown, display

from alphalab import config
from alphalab.ledger import panel_data_hash
from alphalab.panel import Panel
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.provenance import provenance
from alphalab.walkforward import run_study, write_artifacts
from alphalab.walkforward.study import EXTRA_METRIC_KEYS

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
wf = settings.walkforward
panel_file = paths.processed / "panel.parquet"
panel = Panel.load(panel_file)
data_hash = panel_data_hash(panel)  # the same data identity the robustness stage uses
ledger = paths.resolve(settings.robustness.ledger) if settings.robustness.record_trials else None


def rounded(frame, digits):
    """Round the numeric columns only (dates stay as they are)."""
    return frame.round({c: digits for c in frame.select_dtypes("number").columns})


display(
    Markdown(
        f"Panel **{len(panel.dates)} sessions × {len(panel.tickers)} tickers**; folds: {wf.mode}, "
        f"train {wf.train} / test {wf.test} {wf.unit}, objective `{wf.objective}`, scheduler `{wf.scheduler}`."
    )
)

# %%
started = time.perf_counter()
study = run_study(
    panel,
    wf,
    backtest=settings.backtest,
    signal=settings.signal,
    ledger=ledger,
    data_hash=data_hash,
    params_hash=config.params_hash(settings),
)
elapsed = time.perf_counter() - started
r = study.result
display(
    Markdown(
        f"{len(r.folds)} folds × {len(r.variants)} variants in {elapsed:.1f} s. "
        f"Embargo {study.conventions['folds']['embargo_sessions']} sessions, lead-in "
        f"{study.conventions['folds']['lead_in_sessions']} sessions; "
        f"out-of-sample {study.conventions['oos_window']}, holdout from {study.conventions['holdout_start']}."
    )
)
for note in study.notes:
    display(Markdown(f"**Note.** {note}"))

# %% [markdown]
# ## Folds: chosen parameters, in sample vs out of sample
# One row per fold (the last row is the holdout, `fold = -1`): the training and test windows,
# the variant the in-sample objective chose, its in-sample and out-of-sample Sharpe ratio and
# annualized mean, and the fold's walk-forward efficiency (OOS / IS annualized mean; blank when
# the in-sample mean is not positive).

# %%
cols = [
    "fold",
    "train_first",
    "train_last",
    "test_first",
    "test_last",
    "variant",
    "is_sharpe",
    "oos_sharpe",
    "is_ann_mean",
    "oos_ann_mean",
    "wf_efficiency",
]
rounded(r.table[cols], 3)

# %% [markdown]
# ## The out-of-sample record
# The stitched test windows (net of costs), with the number of variants tried behind it and
# the deflated Sharpe ratio that accounts for them.

# %%
{k: study.series[k] for k in ("oos", "in_sample", "walkforward") if k in study.series}

# %% [markdown]
# ## Stress tests
# Each scenario against the base case (the unstressed out-of-sample record, holdout included):
# crisis windows (with the equal-weighted universe's return over the same sessions), costs
# multiplied, and execution delayed by extra sessions with the chosen parameters held fixed.

# %%
rounded(study.stress, 4)

# %% [markdown]
# ## Writing the outputs
# Metrics in the shared shape, the series and tables behind them, the gate and the figures.

# %%
prov = provenance(paths, params=settings, stage="walkforward")
write_metrics(
    "walkforward",
    study.series,
    study.conventions,
    paths=paths,
    provenance=prov,
    extra_keys=EXTRA_METRIC_KEYS,
)
written = write_artifacts(study, paths, provenance=prov)
{k: str(v.relative_to(paths.root)) for k, v in written.items()}

# %% [markdown]
# ## The gate

# %%
display(Markdown((paths.reports / "gate.md").read_text()))

# %% [markdown]
# ## Figures
# Out-of-sample equity with fold boundaries (dotted) and the holdout (shaded); the parameters
# chosen in each fold.

# %%
from alphalab.walkforward import figures

figures.equity_figure(r)

# %%
figures.params_figure(r.table)
