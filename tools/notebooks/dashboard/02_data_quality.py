# %%
# Reviewer dashboard page (Data quality: manifests, validation, panel coverage).
# Served by `make dashboard` (Voila hides this code). The page only reads pipeline artifacts
# under the project root; all logic lives in alphalab.reporting.dashboard.
from alphalab.reporting.dashboard import show

show("data_quality")
