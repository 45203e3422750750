# %%
# Reviewer dashboard page (Robustness: specification grid, placebo, trial ledger, PSR/DSR/PBO).
# Served by `make dashboard` (Voila hides this code). The page only reads pipeline artifacts
# under the project root; all logic lives in alphalab.reporting.dashboard.
from alphalab.reporting.dashboard import show

show("robustness")
