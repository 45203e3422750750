# %% [markdown]
# # 01 · Ingest
#
# **What it does.** Reads the study's inputs from the source named in `params.yaml` (`data.source`:
# the embedded offline `sample`, your `files`, `yfinance` snapshots, or the `simulate` market used
# for tests) and writes them as raw Parquet tables in the data contract (DESIGN.md §4), with a
# manifest of hashes, coverage and package versions.
#
# **Inputs.** `params.yaml` → `data`, `study`. **Outputs.** `data/raw/*.parquet`,
# `data/manifest.json` (check it with `alphalab manifest verify`).
#
# Nothing is validated here beyond parsing: the `validate` stage checks every rule next.

# %% tags=["parameters"]
params = None

# %%
from IPython.display import Markdown, display

from alphalab import config
from alphalab.data.ingest import run_ingest

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
result = run_ingest(settings, paths)
for note in result.notes:
    display(Markdown(f"**{note}**"))

# %% [markdown]
# ## Coverage
# Rows, tickers and first/last dates of every raw table. For factors, the last month each
# column is available (momentum ends earlier than FF3 in the embedded data).

# %%
result.coverage

# %% [markdown]
# ## Where prices and factors overlap
# Factor alphas can only use months covered by both; the later stages report the window they use.

# %%
result.manifest["overlap"]

# %% [markdown]
# ## Source details

# %%
{k: v for k, v in result.manifest["source"].items() if k != "ticker_status"}
