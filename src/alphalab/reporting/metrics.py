"""The one shape of ``reports/metrics/<stage>.json`` (DESIGN.md §5).

Top-level keys are series or analyses (``long_short``, ``g1`` … ``gN``, ``ic``, ``car_g1`` …),
each an object of statistics named from :data:`VOCABULARY`, plus ``conventions`` (periods per
year, Sharpe definition, lag and execution rule, cost model, sample window) and ``provenance``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from alphalab import config
from alphalab.io import atomic_write_json

VOCABULARY = frozenset(
    {
        "n_obs",
        "mean",
        "ann_return",
        "ann_vol",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "max_drawdown_duration",
        "hit_rate",
        "skew",
        "kurtosis",
        "var_95",
        "cvar_95",
        "var_95_cf",
        "cvar_95_cf",
        "tail_ratio",
        "t_nw",
        "p_nw",
        "nw_lags",
        "alpha",
        "alpha_ann",
        "t_alpha",
        "turnover",
        "break_even_bps",
        "psr",
        "dsr",
        "n_trials",
        "var_trials_sharpe",
        "min_trl",
    }
)
RESERVED = frozenset({"conventions", "provenance"})


class MetricsError(ValueError):
    """A metrics document does not follow the shared shape."""


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def check_metrics(doc: dict[str, Any], *, extra_keys: frozenset[str] = frozenset()) -> None:
    """Raise :class:`MetricsError` if a series holds a statistic outside the vocabulary."""
    if "conventions" not in doc:
        raise MetricsError("metrics document lacks a 'conventions' object")
    allowed = VOCABULARY | extra_keys
    for series, stats in doc.items():
        if series in RESERVED:
            continue
        if not isinstance(stats, dict):
            raise MetricsError(
                f"{series}: expected an object of statistics, got {type(stats).__name__}"
            )
        unknown = sorted(set(stats) - allowed)
        if unknown:
            raise MetricsError(f"{series}: statistics {unknown} are not in the metrics vocabulary")


def write_metrics(
    stage: str,
    series: dict[str, dict[str, Any]],
    conventions: dict[str, Any],
    *,
    paths: config.Paths | None = None,
    provenance: dict[str, Any] | None = None,
    extra_keys: frozenset[str] = frozenset(),
) -> Path:
    """Validate and atomically write ``reports/metrics/<stage>.json``."""
    paths = paths or config.Paths()
    doc: dict[str, Any] = {
        k: {s: _clean(v) for s, v in stats.items()} for k, stats in series.items()
    }
    doc["conventions"] = conventions
    if provenance is not None:
        doc["provenance"] = provenance
    check_metrics(doc, extra_keys=extra_keys)
    return atomic_write_json(doc, paths.metrics / f"{stage}.json")
