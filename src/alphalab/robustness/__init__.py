"""Robustness: how fragile is the result, and how many variants were tried to find it?

- :mod:`~alphalab.robustness.grid` — the specification grid (variants from params, each
  through the one engine; :func:`run_grid`);
- :mod:`~alphalab.robustness.inference` — block-bootstrap intervals, the within-date
  permutation placebo, sub- and stress-period breakdowns (scaled out through Dask);
- :mod:`~alphalab.robustness.overfitting` — PSR, DSR (trial count from the ledger), MinTRL,
  PBO, SPA, StepM and Harvey–Liu–Zhu haircuts over the grid;
- :mod:`~alphalab.robustness.figures` — the specification curve and the placebo histogram;
- :mod:`~alphalab.robustness.stage` — :func:`run_robustness`, the ``robustness`` stage.

The trial ledger is :mod:`alphalab.ledger`; the Dask layer is :mod:`alphalab.parallel`.
"""

from __future__ import annotations

from alphalab.robustness.grid import (
    EngineConfig,
    GridError,
    GridInputs,
    GridResult,
    base_config,
    evaluate_config,
    grid_configs,
    grid_inputs,
    run_grid,
    series_stats,
)
from alphalab.robustness.inference import (
    BootstrapSummary,
    PlaceboSummary,
    bootstrap_interval,
    period_breakdown,
    placebo_test,
)
from alphalab.robustness.overfitting import (
    haircuts,
    monthly_compound,
    multiple_testing,
    sharpe_report,
    trial_stats,
)
from alphalab.robustness.stage import EXTRA_KEYS, RobustnessResult, run_robustness

__all__ = [
    "EXTRA_KEYS",
    "BootstrapSummary",
    "EngineConfig",
    "GridError",
    "GridInputs",
    "GridResult",
    "PlaceboSummary",
    "RobustnessResult",
    "base_config",
    "bootstrap_interval",
    "evaluate_config",
    "grid_configs",
    "grid_inputs",
    "haircuts",
    "monthly_compound",
    "multiple_testing",
    "period_breakdown",
    "placebo_test",
    "run_grid",
    "run_robustness",
    "series_stats",
    "sharpe_report",
    "trial_stats",
]
