# %% [markdown]
# # 90 · Report
#
# **What it does.** Turns every artifact the pipeline wrote into static reports for readers who
# will not run anything: one self-contained HTML page per dashboard page (the Overview is
# `summary.html`; every other page covers one stage), with code hidden, plotly.js embedded and no
# reference outside the file, so the pages open from disk with the network off; and booktabs
# LaTeX tables for papers. Pages only read artifacts — a stage that has not run is shown as such,
# with the command to run it.
#
# **Inputs.** `reports/metrics/*.json`, `reports/{backtest,events,regressions,robustness,walkforward}/`,
# `reports/gate.json`, `reports/validation/`, `data/manifest.json`, `data/interim/manifest.json`,
# `data/processed/panel_summary.json`, `ledger/trials.jsonl`. **Outputs.** `reports/html/*.html`,
# `reports/tables/report/*.tex`. The same pages, interactive, are served by `make dashboard`.

# %% tags=["parameters"]
params = None

# %%
from IPython.display import Markdown, display

from alphalab import config
from alphalab.reporting.html import build_reports, summary_lines

paths = config.Paths()
settings = config.stage_settings(params, paths)  # params.yaml + the sections the runner injects
result = build_reports(paths, title=f"{settings.report.title} · study {settings.study.name}")
for line in summary_lines(result, root=paths.root):
    display(Markdown(line))

# %% [markdown]
# ## Files
# Every HTML page was checked for references to scripts, style sheets or images outside itself
# (the column must be all zeros; the build stops otherwise).

# %%
files = result.frame(paths.root)
assert (files["external references"] == 0).all()
files
