# %% [markdown]
# # 02 · Validate inputs
#
# **What it does.** Checks every raw input against the data contract (DESIGN.md §4) before any
# result is computed: fast vectorized row checks first (missing or non-numeric values, duplicate
# keys, prices ≤ 0, jumps that look like unapplied splits, stale runs, sessions missing against
# the exchange calendar, dates outside the study window or in the future, returns in percent
# instead of decimals, signal dimensions out of range or a score that does not match its weighted
# dimensions, signal tickers without prices), each naming the file, 1-based row, column and
# value; then the Great Expectations suite of each input (`expectations/*.json`, GX 1.x, offline).
# Each rule's policy comes from `params.yaml` → `validate`: **error** stops the pipeline (no later
# stage runs), **quarantine** sets the rows aside with a reason, **warn** reports them.
# Nothing is dropped or filled without being counted: `rows_in = accepted + quarantined +
# deduplicated`.
#
# **Inputs.** `data/raw/*.parquet`, `expectations/*.json`; params sections `validate`, `data`
# (study window), `signal` (declared dimensions and weights).
# **Outputs.** `data/interim/*.parquet` (validated, typed), `data/interim/quarantine/*.parquet`,
# `data/interim/manifest.json`, `reports/validation/*.json`, `reports/validation/summary.md`.

# %% tags=["parameters"]
params = None

# %%
import pandas as pd
import plotly.graph_objects as go
from IPython.display import Markdown, display

from alphalab import config
from alphalab.validation import run_validation

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
report = run_validation(settings, paths)  # raises (after writing the reports) on any error rule
display(
    Markdown(
        f"Validation **passed** for {', '.join(report.inputs)}; "
        f"full report: `reports/validation/summary.md`."
    )
)

# %% [markdown]
# ## Rows in, accepted, quarantined, deduplicated
# One row per input. `outcome` is the most serious action taken: `quarantine` (rows set aside),
# `normalise` (representation fixed, e.g. upper-cased tickers), `warn` (reported, kept) or `pass`.

# %%
summary = report.summary_frame()
summary

# %%
fig = go.Figure()
for col, colour in (
    ("accepted", "#2a9d8f"),
    ("quarantined", "#e9c46a"),
    ("deduplicated", "#8d99ae"),
):
    fig.add_bar(name=col, x=summary["input"], y=summary[col], marker_color=colour)
fig.update_layout(
    barmode="stack",
    title="Rows per input by outcome",
    yaxis_title="rows",
    yaxis_type="log",
    height=360,
    template="plotly_white",
)
fig

# %% [markdown]
# ## What the checks found
# Every rule that fired, with its action and the number of rows (or cells) concerned. Example
# lines (`PATH:ROW:COLUMN: VALUE: RULE: message`) are in `reports/validation/summary.md`.

# %%
report.rules_frame()

# %% [markdown]
# ## Great Expectations
# Expectations evaluated on each validated table (grouped ones, such as per-ticker increasing
# dates, are evaluated by `alphalab.validation.suites` because GX has no group-by).

# %%
pd.DataFrame(
    [
        {"input": kind, **{k: v for k, v in r.suite.to_dict().items() if k != "expectations"}}
        for kind, r in report.inputs.items()
        if r.suite is not None
    ]
)
