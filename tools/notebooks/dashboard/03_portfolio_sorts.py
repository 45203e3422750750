# %%
# Reviewer dashboard page (Portfolio sorts: group performance, cumulative returns, horizons, alphas).
# Served by `make dashboard` (Voila hides this code). The page only reads pipeline artifacts
# under the project root; all logic lives in alphalab.reporting.dashboard.
from alphalab.reporting.dashboard import show

show("portfolio_sorts")
