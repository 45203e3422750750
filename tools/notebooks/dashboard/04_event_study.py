# %%
# Reviewer dashboard page (Event study: CAAR by group and window, test statistics).
# Served by `make dashboard` (Voila hides this code). The page only reads pipeline artifacts
# under the project root; all logic lives in alphalab.reporting.dashboard.
from alphalab.reporting.dashboard import show

show("event_study")
