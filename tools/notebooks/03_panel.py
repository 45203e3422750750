# %% [markdown]
# # 03 · Point-in-time panel
#
# **What it does.** Builds the aligned panel every later stage uses: wide matrices (sessions ×
# tickers) on the exchange calendar for the valuation close, returns, the signal score and its
# dimensions. Each signal value sits on the row of its `available_at` session — the first session
# at which it could be traded (after-hours filings count from the next session; weekends and
# holidays roll forward) — and is carried forward until superseded or older than
# `panel.max_age_sessions`. Nothing is used before it was available.
#
# For the default study the signal is the composite of price anomalies (`signal.kind: composite`),
# each dimension standardized across stocks on every formation date; for a file signal (CNOI) it is
# the validated signal file.
#
# **Inputs.** `data/interim/*.parquet` (validated). **Outputs.** `data/processed/panel.parquet`,
# `data/processed/panel_summary.json`.

# %% tags=["parameters"]
params = None

# %%
import pandas as pd
import plotly.graph_objects as go
from IPython.display import Markdown, display

from alphalab import config
from alphalab.io import atomic_write_json
from alphalab.panel import panel_from_params
from alphalab.signals.file import file_signal_from_params

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
prices = pd.read_parquet(paths.interim / "prices.parquet")
signal_table = None
signal_counts = None
if settings.signal.kind == "file":
    raw_signal = pd.read_parquet(paths.interim / "signal.parquet")
    optional = {c: (c if c in raw_signal.columns else None) for c in ("entity", "accepted_at")}
    normalized = file_signal_from_params(
        raw_signal, settings.signal, event_date="event_date", **optional
    )
    signal_table, signal_counts = normalized.table, normalized.counts
panel = panel_from_params(
    prices,
    signal_table,
    signal_params=settings.signal,
    panel_params=settings.panel,
    start=settings.data.start,
    end=settings.data.end,
)
panel.save(paths.processed / "panel.parquet")
summary = panel.summary()
atomic_write_json(
    {
        "summary": summary.reset_index(names="field").to_dict(orient="records"),
        "counts": panel.counts,
        "signal_counts": signal_counts,
        "tickers": list(map(str, panel.tickers)),
        "first": str(panel.dates[0].date()),
        "last": str(panel.dates[-1].date()),
    },
    paths.processed / "panel_summary.json",
)
display(
    Markdown(
        f"Panel: **{len(panel.dates)} sessions × {len(panel.tickers)} tickers**, "
        f"{panel.dates[0].date()} … {panel.dates[-1].date()}."
    )
)

# %% [markdown]
# ## Coverage
# Cells with a value, the share of the grid, and the average number of names per date for every
# matrix. Row accounting of the build (what was carried, expired or superseded) follows.

# %%
summary

# %%
panel.counts if signal_counts is None else {"panel": panel.counts, "signal file": signal_counts}

# %% [markdown]
# ## Names with a usable score per session
# The cross-section available to the sorts; dips mark missing prices or expired scores.

# %%
names = panel.score.notna().sum(axis=1)
fig = go.Figure(
    go.Scatter(x=names.index, y=names.to_numpy(), mode="lines", name="names with a score")
)
fig.update_layout(
    height=320, margin=dict(l=40, r=20, t=30, b=40), yaxis_title="names", xaxis_title="session"
)
fig
