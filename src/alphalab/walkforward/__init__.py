"""Walk-forward analysis, stress tests and the promotion gate (the ``walkforward`` stage).

- :mod:`.folds` — rolling or anchored folds with a purge/embargo, and the final holdout;
- :mod:`.optimize` — per-fold in-sample choice from the parameter grid, untouched
  out-of-sample runs through the engine, the stitched record, walk-forward efficiency;
- :mod:`.stress` — crisis windows, cost shocks and execution delays against the base case;
- :mod:`.gate` — the promotion criteria, the decision and its one-page report;
- :mod:`.study` — the stage as one function (:func:`run_study`) and its files;
- :mod:`.figures` — out-of-sample equity with fold boundaries, parameter choices over time.
"""

from __future__ import annotations

from alphalab.walkforward.folds import (
    EmbargoError,
    Fold,
    WalkForwardError,
    check_embargo,
    holding_horizon,
    holdout_fold,
    plan_folds,
)
from alphalab.walkforward.gate import (
    CRITERIA,
    Criterion,
    GateResult,
    evaluate_gate,
    render_markdown,
)
from alphalab.walkforward.optimize import (
    EngineSettings,
    FoldResult,
    FoldTask,
    Variant,
    WalkForwardData,
    WalkForwardResult,
    expand_grid,
    objective_value,
    run_fold,
    run_variant,
    stitch,
    walk_forward,
    walkforward_efficiency,
)
from alphalab.walkforward.stress import stress_table
from alphalab.walkforward.study import (
    StudyPlan,
    WalkForwardStudy,
    plan_study,
    run_study,
    write_artifacts,
)

__all__ = [
    "CRITERIA",
    "Criterion",
    "EmbargoError",
    "EngineSettings",
    "Fold",
    "FoldResult",
    "FoldTask",
    "GateResult",
    "StudyPlan",
    "Variant",
    "WalkForwardData",
    "WalkForwardError",
    "WalkForwardResult",
    "WalkForwardStudy",
    "check_embargo",
    "evaluate_gate",
    "expand_grid",
    "holding_horizon",
    "holdout_fold",
    "objective_value",
    "plan_folds",
    "plan_study",
    "render_markdown",
    "run_fold",
    "run_study",
    "run_variant",
    "stitch",
    "stress_table",
    "walk_forward",
    "walkforward_efficiency",
    "write_artifacts",
]
