"""The walk-forward stage as one function: folds, holdout, trials, stress tests and the gate.

:func:`run_study` takes the panel and the ``walkforward``, ``backtest`` and ``signal`` params
and returns a :class:`WalkForwardStudy` (every table, the metrics series and the gate);
:func:`write_artifacts` writes its files under ``reports/`` atomically. The stage notebook
(``notebooks/50_walkforward.ipynb``) calls both and writes ``reports/metrics/walkforward.json``.

Overfitting statistics. Every grid variant is one trial: it is run once over the whole
pre-holdout sample and recorded in the trial ledger (``alphalab.ledger``) when that exists.
The deflated Sharpe ratio of the out-of-sample record uses the ledger's trial count and the
variance of its trials' per-period Sharpe ratios; without a ledger, the grid's own variants
(the source is reported). The probability of backtest overfitting is CSCV over the grid
variants' daily net returns.

References
----------
Pardo (2008), ch. 11–12; López de Prado (2018), ch. 7; Bailey and López de Prado (2014),
JPM 40(5) (DSR); Bailey, Borwein, López de Prado and Zhu (2017), J. Comput. Finance 20(4)
(PBO by CSCV).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alphalab.backtest.costs import as_cost_model
from alphalab.config import BacktestParams, Paths, SignalParams, WalkforwardParams
from alphalab.io import atomic_write_json, atomic_write_parquet, atomic_write_text
from alphalab.panel import Panel
from alphalab.signals.price import composite_score
from alphalab.stats.overfitting import (
    PBOResult,
    SharpeStats,
    deflated_sharpe_ratio,
    pbo,
    probabilistic_sharpe_ratio,
)
from alphalab.stats.performance import summarize
from alphalab.walkforward import figures
from alphalab.walkforward.folds import (
    Fold,
    WalkForwardError,
    check_embargo,
    holding_horizon,
    holdout_fold,
    plan_folds,
)
from alphalab.walkforward.gate import GateResult, evaluate_gate, render_markdown
from alphalab.walkforward.optimize import (
    PANEL_SIGNAL,
    EngineSettings,
    Variant,
    WalkForwardData,
    WalkForwardResult,
    expand_grid,
    rebalance_masks,
    variant_returns,
    walk_forward,
)
from alphalab.walkforward.stress import stress_table

#: statistics outside the shared metrics vocabulary that this stage writes
EXTRA_METRIC_KEYS = frozenset(
    {
        "n_folds",
        "n_variants",
        "wf_efficiency",
        "pbo",
        "param_stability",
        "pass",
        "n_failed",
        "coverage",
        "total_return",
    }
)


# --------------------------------------------------------------------------------------------
# inputs from the panel and params
# --------------------------------------------------------------------------------------------
def _signs(signal: SignalParams | None, panel: Panel) -> dict[str, int]:
    signs = {str(k): int(v) for k, v in (panel.meta.get("signs") or {}).items()}
    if signal is not None:
        signs.update({k: int(d.sign) for k, d in signal.dimensions.items()})
    return signs


def score_sets(
    panel: Panel, signals: Mapping[str, Mapping[str, float] | None] | None, signs: Mapping[str, int]
) -> dict[str, pd.DataFrame]:
    """Score matrices by name: the panel's own score, or dimension weightings of it.

    A named weighting recombines the panel's (standardized, point-in-time) dimension matrices
    with :func:`alphalab.signals.price.composite_score` and the dimensions' signs.
    """
    if panel.score is None:
        raise WalkForwardError("panel: no score matrix (build the panel with a signal)")
    if signals is None:
        return {PANEL_SIGNAL: panel.score}
    out = {}
    for name, weights in signals.items():
        if weights is None:
            out[name] = panel.score
            continue
        unknown = sorted(set(weights) - set(panel.dimensions))
        if unknown:
            raise WalkForwardError(
                f"walkforward.grid.signals.{name}: dimension(s) {unknown} not in the panel "
                f"(has {sorted(panel.dimensions)})"
            )
        nosign = sorted(d for d in weights if d not in signs)
        if nosign:
            raise WalkForwardError(f"walkforward.grid.signals.{name}: no sign known for {nosign}")
        dims = {d: panel.dimensions[d] for d in weights}
        out[name] = composite_score(dims, dict(weights), {d: signs[d] for d in weights})
    return out


def _score_meta(
    signals: Mapping[str, Mapping[str, float] | None] | None, signs: Mapping[str, int]
) -> dict[str, Any]:
    """How each named score is built (part of a trial's identity)."""
    if signals is None:
        return {PANEL_SIGNAL: "panel score"}
    return {
        name: "panel score"
        if w is None
        else {"weights": dict(w), "signs": {d: signs.get(d) for d in w}}
        for name, w in signals.items()
    }


def grid_variants(params: WalkforwardParams, backtest: BacktestParams) -> list[Variant]:
    """The grid of ``params.grid`` with unset keys taken from ``backtest``."""
    g = params.grid
    grid = {
        "n_groups": g.n_groups,
        "holding": g.holding,
        "rebalance": g.rebalance,
        "weighting": g.weighting,
        "direction": g.direction,
        "signal": list(g.signals) if g.signals is not None else None,
    }
    defaults = {
        "n_groups": backtest.n_groups,
        "holding": backtest.holding,
        "rebalance": backtest.rebalance,
        "weighting": backtest.weighting,
        "direction": backtest.direction,
        "signal": PANEL_SIGNAL,
    }
    return expand_grid(grid, defaults)


def engine_settings(backtest: BacktestParams) -> EngineSettings:
    """Shared engine options from the ``backtest`` params."""
    return EngineSettings(
        lag=backtest.lag,
        costs=as_cost_model(backtest.costs),
        min_names=backtest.min_names,
        delisting_return=backtest.delisting_return,
        periods_per_year=backtest.ann_factor,
    )


def panel_data(
    panel: Panel, variants: list[Variant], scores: dict[str, pd.DataFrame]
) -> WalkForwardData:
    """:class:`WalkForwardData` for ``variants`` from the panel."""
    masks = rebalance_masks(panel.dates, [v.rebalance for v in variants], panel.new_signal)
    return WalkForwardData(ret=panel.ret, scores=scores, masks=masks, market_cap=panel.market_cap)


def first_row(index: pd.DatetimeIndex, scores: Mapping[str, pd.DataFrame], start: Any) -> int:
    """Row of ``start``, or of the first session where any score has a value."""
    if start is not None:
        row = int(index.searchsorted(pd.Timestamp(start)))
        if row >= len(index):
            raise WalkForwardError(
                f"walkforward.start: {start} is after the last session {index[-1].date()}"
            )
        return row
    have = np.zeros(len(index), dtype=bool)
    for s in scores.values():
        have |= np.isfinite(s.to_numpy(dtype=np.float64)).any(axis=1)
    if not have.any():
        raise WalkForwardError("panel: the score has no value on any session")
    return int(np.flatnonzero(have)[0])


def holdout_row(index: pd.DatetimeIndex, holdout_start: Any, first: int) -> int | None:
    """First holdout row; None without a holdout or when it starts after the data."""
    if holdout_start is None:
        return None
    row = int(index.searchsorted(pd.Timestamp(holdout_start)))
    if row >= len(index):
        return None
    if row <= first:
        raise WalkForwardError(
            f"walkforward.holdout_start: {holdout_start} leaves no data before it (study starts {index[first].date()})"
        )
    return row


# --------------------------------------------------------------------------------------------
# trials, ledger and overfitting statistics
# --------------------------------------------------------------------------------------------
def trial_table(returns: pd.DataFrame, *, periods_per_year: int) -> pd.DataFrame:
    """Per variant: per-period Sharpe, skew, Pearson kurtosis, observations (the ledger record)."""
    rows = []
    for label in returns.columns:
        x = returns[label].to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        try:
            s = SharpeStats.from_returns(x)
            row = {"sr": s.sr, "skew": s.skew, "kurtosis": s.kurtosis, "n_obs": s.n_obs}
        except ValueError:
            row = {"sr": math.nan, "skew": math.nan, "kurtosis": math.nan, "n_obs": int(x.size)}
        row["sharpe"] = row["sr"] * math.sqrt(periods_per_year)
        rows.append({"variant": label, **row})
    return pd.DataFrame(rows)


def ledger_trials(
    path: Path | None,
    trials: pd.DataFrame,
    specs: list[dict[str, Any]],
    *,
    data_hash: str | None,
    params_hash: str | None,
    periods_per_year: int,
) -> tuple[int, float, str] | None:
    """Record the variants in the trial ledger; return its ``(n_trials, var_sharpe, source)``.

    None without a ledger path or a data hash (nothing is recorded then). Variants whose
    Sharpe ratio is undefined are not recorded. The count is the ledger's, restricted to
    trials on the same ``data_hash``, with Sharpe ratios at ``periods_per_year``.
    """
    if path is None or not data_hash:
        return None
    from alphalab.ledger import Trial, TrialLedger

    records = []
    for spec, (_, t) in zip(specs, trials.iterrows(), strict=True):
        if not math.isfinite(t["sr"]) or t["n_obs"] < 4:
            continue
        records.append(
            Trial(
                params_hash=params_hash or "unknown",
                data_hash=data_hash,
                variant=spec,
                source="walkforward",
                sharpe=float(t["sr"]),
                skew=float(t["skew"]),
                kurtosis=float(t["kurtosis"]),
                n_obs=int(t["n_obs"]),
                periods_per_year=float(periods_per_year),
            )
        )
    ledger = TrialLedger(path)
    ledger.record(records)
    n, var = ledger.stats(data_hash=data_hash, periods_per_year=float(periods_per_year))
    if n < 1:
        return None
    return int(n), float(var), f"trial ledger {Path(path).name}, trials on the same data"


def trial_spec(
    variant: Variant,
    settings: EngineSettings,
    scores_meta: Mapping[str, Any],
    window: pd.DatetimeIndex,
) -> dict[str, Any]:
    """Every setting that determines a variant's pre-holdout return series (its ledger identity)."""
    return {
        **variant.as_dict(),
        "score": scores_meta.get(variant.signal),
        "lag": settings.lag,
        "cost_bps": settings.costs.total_bps,
        "min_names": settings.min_names,
        "delisting_return": settings.delisting_return,
        "periods_per_year": settings.periods_per_year,
        "series": "long_short net of costs",
        "window": [str(window[0].date()), str(window[-1].date())],
    }


def grid_trials(trials: pd.DataFrame) -> tuple[int, float, str]:
    """Trial count and variance of per-period Sharpe ratios from the grid alone."""
    sr = trials["sr"].to_numpy(dtype=np.float64)
    sr = sr[np.isfinite(sr)]
    var = float(np.var(sr, ddof=1)) if sr.size > 1 else 0.0
    return int(max(len(trials), 1)), var, "walk-forward grid (no trial ledger available)"


def grid_pbo(returns: pd.DataFrame, *, n_splits: int) -> tuple[PBOResult | None, str | None]:
    """CSCV PBO over the variants' net returns (rows with any NaN dropped), or why not."""
    if returns.shape[1] < 2:
        return None, "the grid has a single variant (nothing was selected)"
    clean = returns.dropna()
    if len(clean) < 2 * n_splits:
        return None, f"{len(clean)} complete rows are too few for {n_splits} CSCV blocks"
    return pbo(clean, n_splits=n_splits), None


# --------------------------------------------------------------------------------------------
# the study
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WalkForwardStudy:
    """Everything the walk-forward stage reports.

    Attributes
    ----------
    result : WalkForwardResult
    stress : DataFrame
        :func:`alphalab.walkforward.stress.stress_table`.
    gate : GateResult
    trials : DataFrame
        Per grid variant over the pre-holdout sample (the ledger records).
    pbo : PBOResult or None
    series : dict
        Metrics series for ``reports/metrics/walkforward.json``.
    conventions : dict
    notes : list of str
    """

    result: WalkForwardResult
    stress: pd.DataFrame
    gate: GateResult
    trials: pd.DataFrame
    pbo: PBOResult | None
    series: dict[str, dict[str, Any]]
    conventions: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _oos_stats(
    net: pd.Series, turnover: pd.Series, n_trials: int, var_sr: float, p: int
) -> tuple[dict[str, Any], str | None]:
    stats = summarize(net, periods_per_year=p, turnover=turnover)
    x = net.to_numpy(dtype=np.float64)
    x = x[np.isfinite(x)]
    why = None
    try:
        s = SharpeStats.from_returns(x)
        stats["psr"] = probabilistic_sharpe_ratio(s)
        stats["dsr"] = deflated_sharpe_ratio(s, n_trials=n_trials, var_trials_sharpe=var_sr)
    except ValueError as exc:
        stats["psr"] = stats["dsr"] = math.nan
        why = str(exc)
    stats["n_trials"], stats["var_trials_sharpe"] = n_trials, var_sr
    return stats, why


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def _stress_series(stress: pd.DataFrame) -> dict[str, dict[str, Any]]:
    out = {}
    for _, row in stress.iterrows():
        if row["kind"] == "base":
            continue
        prefix = {"crisis": "crisis", "cost": "stress", "delay": "stress"}[row["kind"]]
        out[f"{prefix}_{_key(str(row['scenario']))}"] = {
            "n_obs": int(row["n_obs"]),
            "total_return": row["total_return"],
            "ann_return": row["ann_return"],
            "sharpe": row["sharpe"],
            "max_drawdown": row["max_drawdown"],
            "coverage": row["coverage"],
        }
    return out


def _param_stability(table: pd.DataFrame) -> float:
    wf = table[table["kind"] == "walkforward"]["variant"].to_numpy()
    return float(np.mean(wf[1:] == wf[:-1])) if len(wf) > 1 else math.nan


def _window(index: pd.DatetimeIndex) -> str:
    return f"{index[0].date()} … {index[-1].date()}" if len(index) else "empty"


@dataclass(frozen=True)
class StudyPlan:
    """What the walk-forward will run: grid, data, engine options, folds and holdout."""

    variants: list[Variant]
    data: WalkForwardData
    settings: EngineSettings
    first: int
    stop: int
    folds: list[Fold]
    holdout: Fold | None
    embargo: int
    lead_in: int
    score_meta: dict[str, Any]
    notes: list[str]

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.data.index


def plan_study(
    panel: Panel,
    params: WalkforwardParams,
    *,
    backtest: BacktestParams,
    signal: SignalParams | None = None,
) -> StudyPlan:
    """Build the grid, the engine inputs and the folds; validate the embargo (exactly).

    Raises
    ------
    EmbargoError
        When ``params.embargo`` is below a variant's holding horizon
        (:func:`alphalab.walkforward.folds.holding_horizon`).
    """
    notes: list[str] = []
    variants = grid_variants(params, backtest)
    signs = _signs(signal, panel)
    scores = score_sets(panel, params.grid.signals, signs)
    data = panel_data(panel, variants, scores)
    settings = engine_settings(backtest)
    index = data.index
    first = first_row(index, scores, params.start)
    hold = holdout_row(index, params.holdout_start, first)
    if params.holdout_start is not None and hold is None:
        notes.append(f"holdout_start {params.holdout_start} is after the last session: no holdout")
    stop = hold if hold is not None else len(index)
    horizons = {
        v.label: holding_horizon(data.masks[v.rebalance], holding=v.holding, lag=settings.lag)
        for v in variants
    }
    embargo = params.embargo if params.embargo is not None else max(horizons.values())
    check_embargo(embargo, horizons)
    lead_in = params.lead_in if params.lead_in is not None else max(horizons.values())
    folds = plan_folds(
        index,
        train=params.train,
        test=params.test,
        embargo=embargo,
        mode=params.mode,
        unit=params.unit,
        first=first,
        stop=stop,
    )
    hfold = None
    if hold is not None:
        hfold = holdout_fold(
            index,
            holdout_start=hold,
            train=params.train,
            embargo=embargo,
            mode=params.mode,
            unit=params.unit,
            first=first,
        )
    meta = _score_meta(params.grid.signals, signs)
    return StudyPlan(
        variants, data, settings, first, stop, folds, hfold, embargo, lead_in, meta, notes
    )


@dataclass(frozen=True)
class TrialCount:
    """The trials behind the DSR and the grid's PBO (with why PBO is missing, if it is)."""

    table: pd.DataFrame
    n_trials: int
    var_sharpe: float
    source: str
    pbo: PBOResult | None
    pbo_missing: str | None


def count_trials(
    plan: StudyPlan,
    *,
    pbo_splits: int,
    ledger: Path | None,
    data_hash: str | None,
    params_hash: str | None,
) -> TrialCount:
    """Run every variant over the pre-holdout sample, record it, count trials, compute PBO.

    The holdout rows are never used: the variants run on ``[first, holdout_start)``.
    """
    p = plan.settings.periods_per_year
    rows = slice(plan.first, plan.stop)
    returns = variant_returns(plan.data.head(plan.stop), plan.variants, rows, plan.settings)
    table = trial_table(returns, periods_per_year=p)
    window = plan.index[rows]
    specs = [trial_spec(v, plan.settings, plan.score_meta, window) for v in plan.variants]
    counted = ledger_trials(
        ledger, table, specs, data_hash=data_hash, params_hash=params_hash, periods_per_year=p
    )
    if counted is None:
        counted = grid_trials(table)
        plan.notes.append(
            "no trial ledger (or no data hash): the DSR uses the walk-forward grid's own trial count"
        )
    res, why = grid_pbo(returns, n_splits=pbo_splits)
    return TrialCount(table, *counted, res, why)


MISSING = {
    "oos_sharpe": "out-of-sample returns constant or too few",
    "t_stat": "too few out-of-sample returns",
    "max_drawdown": "no out-of-sample returns",
    "oos_periods": "no out-of-sample returns",
}


def judge(
    params: WalkforwardParams,
    result: WalkForwardResult,
    oos: Mapping[str, Any],
    holdout: Mapping[str, Any] | None,
    trials: TrialCount,
    dsr_missing: str | None,
) -> GateResult:
    """Measure every gate quantity and evaluate the gate (missing inputs fail, with why)."""
    mdd = oos["max_drawdown"]
    measured = {
        "oos_sharpe": oos["sharpe"],
        "max_drawdown": -mdd if math.isfinite(mdd) else math.nan,
        "dsr": oos["dsr"],
        "pbo": trials.pbo.pbo if trials.pbo is not None else None,
        "t_stat": oos["t_nw"],
        "oos_periods": oos["n_obs"],
        "holdout_sharpe": holdout["sharpe"] if holdout is not None else None,
    }
    missing = {
        **MISSING,
        "dsr": dsr_missing or "Sharpe ratio of the out-of-sample record undefined",
        "pbo": trials.pbo_missing or "undefined",
        "holdout_sharpe": "no holdout period" if holdout is None else "holdout Sharpe undefined",
    }
    context = {
        "n_trials": trials.n_trials,
        "var_trials_sharpe": trials.var_sharpe,
        "trials_source": trials.source,
        "n_variants": len(result.variants),
        "n_folds": len(result.folds),
        "objective": params.objective,
        "oos_window": _window(result.oos.index),
        "holdout_window": _window(result.holdout.oos.index) if result.holdout else None,
        "wf_efficiency": result.efficiency,
    }
    return evaluate_gate(params.gate.model_dump(), measured, missing=missing, context=context)


def _series(
    result: WalkForwardResult,
    oos: dict[str, Any],
    holdout: dict[str, Any] | None,
    trials: TrialCount,
    stress: pd.DataFrame,
    gate: GateResult,
    periods_per_year: int,
) -> dict[str, dict[str, Any]]:
    wf_rows = result.table[result.table["kind"] == "walkforward"]
    series: dict[str, dict[str, Any]] = {"oos": oos}
    series["in_sample"] = {
        "n_obs": int(wf_rows["n_train"].sum()),
        "mean": float(wf_rows["is_ann_mean"].mean()) / periods_per_year,
        "sharpe": float(wf_rows["is_sharpe"].mean()),
    }
    if holdout is not None:
        series["holdout"] = holdout
    series["walkforward"] = {
        "n_folds": len(result.folds),
        "n_variants": len(result.variants),
        "wf_efficiency": result.efficiency,
        "pbo": trials.pbo.pbo if trials.pbo is not None else math.nan,
        "param_stability": _param_stability(result.table),
        "n_trials": trials.n_trials,
        "var_trials_sharpe": trials.var_sharpe,
    }
    series.update(_stress_series(stress))
    series["gate"] = {"pass": int(gate.decision == "PASS"), "n_failed": len(gate.failed)}
    return series


def _conventions(
    params: WalkforwardParams, plan: StudyPlan, result: WalkForwardResult, trials: TrialCount
) -> dict[str, Any]:
    s, index = plan.settings, plan.index
    return {
        "periods_per_year": s.periods_per_year,
        "sharpe": "arithmetic mean / sd (ddof=1) × sqrt(periods_per_year) of net daily long-short "
        "returns",
        "series": "oos = stitched test windows of the walk-forward (net long-short); holdout = the "
        "final window no fold sees, parameters chosen on the data before it",
        "lag": s.lag,
        "execution": "score known at the close of t, traded at the close of t+lag "
        "(alphalab.backtest)",
        "cost_model": s.costs.describe(),
        "sample_window": _window(index[plan.first :]),
        "oos_window": _window(result.oos.index),
        "holdout_start": None if plan.holdout is None else str(index[plan.stop].date()),
        "folds": {
            "mode": params.mode,
            "unit": params.unit,
            "train": params.train,
            "test": params.test,
            "embargo_sessions": plan.embargo,
            "lead_in_sessions": plan.lead_in,
            "purge": "the last `embargo` sessions before each test window are dropped from "
            "training",
        },
        "grid": [v.as_dict() for v in plan.variants],
        "trials": {
            "n_trials": trials.n_trials,
            "source": trials.source,
            "var_trials_sharpe": "variance of per-period Sharpe ratios",
        },
        "pbo": {"method": "CSCV", "n_splits": params.pbo_splits, "metric": "sharpe"},
        **result.conventions,
    }


def run_study(
    panel: Panel,
    params: WalkforwardParams,
    *,
    backtest: BacktestParams,
    signal: SignalParams | None = None,
    ledger: Path | None = None,
    data_hash: str | None = None,
    params_hash: str | None = None,
    progress: bool = False,
) -> WalkForwardStudy:
    """Run the whole walk-forward stage on a panel.

    Parameters
    ----------
    panel : Panel
        See :mod:`alphalab.panel` (needs ``score``; ``dimensions`` for ``grid.signals``).
    params : WalkforwardParams
        The ``walkforward`` section.
    backtest : BacktestParams
        Engine defaults (lag, costs, min_names, delisting, ann_factor) and the grid's unset keys.
    signal : SignalParams, optional
        Signs of the dimensions for ``grid.signals`` (default: the panel's metadata).
    ledger : Path, optional
        Trial-ledger file (``robustness.ledger``); None → nothing recorded, the DSR uses
        the grid's own trial count (the report says so).
    data_hash : str, optional
        Hash of the panel file (each trial's data identity; filters the ledger's count).
        Needed to record trials.
    params_hash : str, optional
        Hash of the params (provenance of each recorded trial).
    progress : bool
        Show the fold progress bar.

    Returns
    -------
    WalkForwardStudy

    Raises
    ------
    WalkForwardError
        Bad inputs: an embargo below a variant's holding horizon (:class:`EmbargoError`), no
        fold fitting the data, unknown dimensions, ...

    References
    ----------
    See the module docstring.
    """
    plan = plan_study(panel, params, backtest=backtest, signal=signal)
    p = plan.settings.periods_per_year
    result = walk_forward(
        plan.data,
        plan.variants,
        plan.folds,
        plan.settings,
        objective=params.objective,
        lead_in=plan.lead_in,
        min_train_obs=params.min_train_obs,
        holdout=plan.holdout,
        delays=params.delays,
        scheduler=params.scheduler,
        n_workers=params.n_workers,
        progress=progress,
    )
    trials = count_trials(
        plan,
        pbo_splits=params.pbo_splits,
        ledger=ledger,
        data_hash=data_hash,
        params_hash=params_hash,
    )
    oos = result.oos
    oos_stats, dsr_missing = _oos_stats(
        oos["net"], oos["turnover"], trials.n_trials, trials.var_sharpe, p
    )
    hold_stats = None
    if result.holdout is not None:
        h = result.holdout.oos
        hold_stats = summarize(h["net"], periods_per_year=p, turnover=h["turnover"])
    stress = stress_table(
        result,
        windows=params.stress_windows,
        cost_shocks=params.cost_shocks,
        delays=params.delays,
        cost_rate=plan.settings.costs.rate,
        universe=panel.ret.mean(axis=1, skipna=True),
        periods_per_year=p,
    )
    gate = judge(params, result, oos_stats, hold_stats, trials, dsr_missing)
    series = _series(result, oos_stats, hold_stats, trials, stress, gate, p)
    conventions = _conventions(params, plan, result, trials)
    return WalkForwardStudy(
        result, stress, gate, trials.table, trials.pbo, series, conventions, plan.notes
    )


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------
def _facts(study: WalkForwardStudy, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    r, c = study.result, study.gate.context
    facts: dict[str, Any] = dict(extra or {})
    facts["Out-of-sample window"] = (
        f"{c['oos_window']} ({len(r.folds)} folds, {r.conventions['objective']} objective)"
    )
    facts["Variants tried"] = (
        f"{c['n_variants']} per fold; trials counted for the DSR: {c['n_trials']} ({c['trials_source']})"
    )
    facts["Walk-forward efficiency"] = (
        f"{study.result.efficiency:.3g}"
        if math.isfinite(r.efficiency)
        else "n/a (in-sample return not positive)"
    )
    if "holdout" in study.series:
        h = study.series["holdout"]
        facts["Holdout"] = (
            f"{c['holdout_window']}: Sharpe {h['sharpe']:.3g}, max drawdown {abs(h['max_drawdown']):.3g}"
        )
    else:
        facts["Holdout"] = "none"
    worst = study.stress[study.stress["kind"] == "crisis"].dropna(subset=["total_return"])
    if len(worst):
        w = worst.loc[worst["total_return"].idxmin()]
        facts["Worst crisis window"] = f"{w['scenario']}: total return {w['total_return']:.3g}"
    for _, row in study.stress[study.stress["kind"].isin(["cost", "delay"])].iterrows():
        facts[f"Stress {row['scenario']}"] = (
            f"Sharpe {row['sharpe']:.3g} (base {row['base_sharpe']:.3g})"
        )
    for note in study.notes:
        facts.setdefault("Notes", "")
        facts["Notes"] = (facts["Notes"] + "; " if facts["Notes"] else "") + note
    return facts


def write_artifacts(
    study: WalkForwardStudy,
    paths: Paths,
    *,
    provenance: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> dict[str, Path]:
    """Write every file of the stage except the metrics JSON (all atomic).

    ``reports/walkforward/{oos_returns,folds,fold_variants,stress,trials}.parquet``,
    ``folds.csv``, ``reports/gate.json``, ``reports/gate.md``,
    ``reports/figures/wf_equity.html`` and ``wf_params.html``.
    """
    out_dir = paths.reports / "walkforward"
    fig_dir = paths.reports / "figures"
    r = study.result
    record = r.record.copy()
    record["segment"] = np.where(record["fold"] >= 0, "walkforward", "holdout")
    written = {
        "oos_returns": atomic_write_parquet(record, out_dir / "oos_returns.parquet"),
        "folds": atomic_write_parquet(r.table, out_dir / "folds.parquet"),
        "fold_variants": atomic_write_parquet(r.variants_is, out_dir / "fold_variants.parquet"),
        "stress": atomic_write_parquet(study.stress, out_dir / "stress.parquet"),
        "trials": atomic_write_parquet(study.trials, out_dir / "trials.parquet"),
        "folds_csv": atomic_write_text(r.table.to_csv(index=False), out_dir / "folds.csv"),
    }
    doc = study.gate.to_dict()
    if provenance is not None:
        doc["provenance"] = dict(provenance)
    written["gate_json"] = atomic_write_json(doc, paths.reports / "gate.json")
    extra = {}
    if provenance:
        git = provenance.get("git") or {}
        extra = {
            "Study": provenance.get("study") or "n/a",
            "Params hash": provenance.get("params_hash") or "n/a",
            "Commit": (git.get("commit") or "n/a")
            + (" (uncommitted changes)" if git.get("dirty") else ""),
            "Created": provenance.get("created_at") or "n/a",
        }
    md = render_markdown(
        study.gate, title=title or "Walk-forward promotion gate", facts=_facts(study, extra)
    )
    written["gate_md"] = atomic_write_text(md, paths.reports / "gate.md")
    written["wf_equity"] = figures.write_html(
        figures.equity_figure(r), fig_dir / "wf_equity.html", div_id="wf-equity"
    )
    written["wf_params"] = figures.write_html(
        figures.params_figure(r.table), fig_dir / "wf_params.html", div_id="wf-params"
    )
    return written
