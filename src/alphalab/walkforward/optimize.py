"""In-sample choice per fold, untouched out-of-sample runs, and the stitched record.

Each fold is one task (run through :func:`alphalab.parallel.map_tasks`, the same Dask path as
the robustness grid; the pre-holdout matrices are shipped to each worker once and every task
first cuts them at its own ``test_stop``):

1. **In sample.** Every grid variant runs through the engine
   (:func:`alphalab.backtest.sort_portfolios`) on the rows ``[train_start − lead_in,
   train_stop)`` — the choice is computed from a copy cut at ``train_stop`` — and is scored by the
   ``objective`` on the net long-short returns of ``[train_start, train_stop)``. The best
   variant wins; ties (and an all-NaN fold) go to the first variant in grid order.
2. **Out of sample.** The chosen variant runs on ``[test_start − lead_in, test_stop)`` and
   the returns of the test rows are kept: the ``lead_in`` sessions (data known before the
   window opens) let the book form before the first test session, so the window is traded
   from its first session on. Each fold is a fresh run, so a parameter switch between folds is
   a switch of books at the window boundary.

Every engine call uses ``rebalance="availability"`` with the rebalance rows of the **whole**
session calendar (for ``weekly``/``monthly``/``quarterly``, :func:`alphalab.backtest.
rebalance_rows` of the full index; for ``availability``, the panel's ``new_signal`` rows), so
a window cut in the middle of a month does not turn its last row into a rebalance date.

References
----------
Pardo, R. (2008), *The Evaluation and Optimization of Trading Strategies*, 2nd ed., Wiley,
ch. 11 (walk-forward optimization), ch. 12 (walk-forward efficiency = annualized
out-of-sample return / annualized in-sample return).
López de Prado, M. (2018), *Advances in Financial Machine Learning*, ch. 7 (purging, embargo).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from alphalab.backtest import CostModel, rebalance_rows, sort_portfolios
from alphalab.parallel import map_tasks
from alphalab.stats.inference import newey_west
from alphalab.walkforward.folds import Fold, WalkForwardError

Objective = Literal["sharpe", "t_stat", "net_return"]
GRID_KEYS = ("n_groups", "holding", "rebalance", "weighting", "direction", "signal")
PANEL_SIGNAL = "panel"


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One point of the parameter grid (the engine options a fold can choose)."""

    n_groups: int
    holding: int
    rebalance: str
    weighting: str
    direction: int
    signal: str = PANEL_SIGNAL

    @property
    def label(self) -> str:
        """Compact name, e.g. ``n5-h3-monthly-equal-long-panel``."""
        side = "long" if self.direction == 1 else "short"
        return f"n{self.n_groups}-h{self.holding}-{self.rebalance}-{self.weighting}-{side}-{self.signal}"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in GRID_KEYS}


@dataclass(frozen=True)
class EngineSettings:
    """Engine options every variant shares (from the ``backtest`` params)."""

    lag: int = 1
    costs: CostModel = field(default_factory=CostModel)
    min_names: int = 1
    delisting_return: float | None = None
    periods_per_year: int = 252

    def with_cost_multiplier(self, k: float) -> EngineSettings:
        c = self.costs
        scaled = CostModel(c.half_spread_bps * k, c.commission_bps * k, c.impact_bps * k)
        return replace(self, costs=scaled)


@dataclass(frozen=True)
class WalkForwardData:
    """Engine inputs on one session index (see :mod:`alphalab.panel`).

    Attributes
    ----------
    ret : DataFrame
        Sessions × tickers simple returns.
    scores : dict of str → DataFrame
        Score matrices by signal name (``"panel"`` = the panel's own score).
    masks : dict of str → ndarray
        Rebalance rows over the whole index, by rebalance rule.
    market_cap : DataFrame or None
    """

    ret: pd.DataFrame
    scores: dict[str, pd.DataFrame]
    masks: dict[str, np.ndarray]
    market_cap: pd.DataFrame | None = None

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.ret.index)

    def head(self, stop: int) -> WalkForwardData:
        """The first ``stop`` rows only (what a task may see)."""
        return WalkForwardData(
            ret=self.ret.iloc[:stop],
            scores={k: v.iloc[:stop] for k, v in self.scores.items()},
            masks={k: v[:stop] for k, v in self.masks.items()},
            market_cap=None if self.market_cap is None else self.market_cap.iloc[:stop],
        )


def rebalance_masks(
    index: pd.DatetimeIndex, rules: Sequence[str], new_signal: pd.DataFrame | None = None
) -> dict[str, np.ndarray]:
    """Rebalance rows over the whole calendar for each rule (``availability``: ``new_signal``)."""
    out = {}
    for rule in dict.fromkeys(rules):
        if rule == "availability":
            if new_signal is None:
                raise WalkForwardError(
                    "rebalance 'availability' needs the panel's new_signal matrix"
                )
            out[rule] = new_signal.reindex(index).fillna(False).to_numpy(dtype=bool).any(axis=1)
        else:
            out[rule] = rebalance_rows(index, rule)  # type: ignore[arg-type]
    return out


def expand_grid(
    grid: Mapping[str, Sequence[Any] | None], defaults: Mapping[str, Any]
) -> list[Variant]:
    """The cartesian product of the grid's lists, in a fixed order (null keys take ``defaults``).

    Parameters
    ----------
    grid : mapping
        ``n_groups``, ``holding``, ``rebalance``, ``weighting``, ``direction``, ``signal``
        → list of values or None.
    defaults : mapping
        The same keys → the single value used when the grid leaves a key out.
    """
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise WalkForwardError(
            f"walkforward.grid: unknown key(s) {unknown}; known: {list(GRID_KEYS)}"
        )
    axes = []
    for key in GRID_KEYS:
        values = grid.get(key)
        axes.append(list(values) if values is not None else [defaults[key]])
    return [Variant(*combo) for combo in itertools.product(*axes)]


# --------------------------------------------------------------------------------------------
# engine calls and objectives
# --------------------------------------------------------------------------------------------
def run_variant(
    data: WalkForwardData,
    variant: Variant,
    rows: slice,
    settings: EngineSettings,
    *,
    extra_lag: int = 0,
) -> pd.DataFrame:
    """Run one variant on ``rows`` and return its long-short ``gross``, ``net``, ``turnover``."""
    sl = slice(rows.start, rows.stop)
    if variant.signal not in data.scores:
        raise WalkForwardError(f"variant {variant.label}: no score named {variant.signal!r}")
    mcap = None
    if variant.weighting == "value":
        if data.market_cap is None:
            raise WalkForwardError(
                f"variant {variant.label}: weighting 'value' needs market caps in the panel"
            )
        mcap = data.market_cap.iloc[sl]
    res = sort_portfolios(
        data.scores[variant.signal].iloc[sl],
        data.ret.iloc[sl],
        n_groups=variant.n_groups,
        rebalance="availability",
        rebalance_mask=data.masks[variant.rebalance][sl],
        holding=variant.holding,
        lag=settings.lag + extra_lag,
        weighting=variant.weighting,  # type: ignore[arg-type]
        market_cap=mcap,
        direction=variant.direction,  # type: ignore[arg-type]
        min_names=settings.min_names,
        costs=settings.costs,
        delisting_return=settings.delisting_return,
    )
    return pd.DataFrame(
        {
            "gross": res.returns["long_short"],
            "net": res.net["long_short"],
            "turnover": res.turnover["long_short"],
        }
    )


def objective_value(
    returns: np.ndarray, objective: Objective, *, periods_per_year: int, min_obs: int
) -> float:
    """Score a net return series (NaN dropped); NaN with fewer than ``min_obs`` values.

    ``sharpe``: mean / sd (ddof=1) × sqrt(P); ``t_stat``: Newey–West t of the mean (default
    lag rule of :func:`alphalab.stats.inference.default_lags`); ``net_return``: mean × P.

    References
    ----------
    Sharpe, W. F. (1994), JPM 21(1), eq. (1)–(3); Newey and West (1987), Econometrica 55(3).
    """
    x = returns[np.isfinite(returns)]
    if x.size < max(min_obs, 3):
        return math.nan
    if objective == "net_return":
        return float(x.mean()) * periods_per_year
    sd = float(x.std(ddof=1))
    if not sd > 0:
        return math.nan
    if objective == "sharpe":
        return float(x.mean()) / sd * math.sqrt(periods_per_year)
    return float(newey_west(x).t)


def choose(values: Sequence[float]) -> int:
    """Index of the largest finite value; the first on ties; 0 when every value is NaN."""
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return 0
    best = np.max(arr[finite])
    return int(np.flatnonzero(finite & (arr == best))[0])


def _ann_mean(x: pd.Series, periods_per_year: int) -> float:
    v = x.to_numpy(dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) * periods_per_year if v.size else math.nan


def _sharpe(x: pd.Series, periods_per_year: int) -> float:
    v = x.to_numpy(dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 3 or not v.std(ddof=1) > 0:
        return math.nan
    return float(v.mean()) / float(v.std(ddof=1)) * math.sqrt(periods_per_year)


# --------------------------------------------------------------------------------------------
# one fold
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FoldTask:
    """Everything one fold needs except the data (passed separately, shared by all folds)."""

    fold: Fold
    variants: tuple[Variant, ...]
    settings: EngineSettings
    objective: Objective
    lead_in: int
    min_train_obs: int
    delays: tuple[int, ...] = ()


@dataclass(frozen=True)
class FoldResult:
    """Outcome of one fold.

    Attributes
    ----------
    fold : Fold
    chosen : int
        Index of the chosen variant in the grid.
    in_sample : DataFrame
        One row per variant: ``objective``, ``sharpe``, ``ann_mean``, ``n_obs`` on the
        training rows.
    oos : DataFrame
        Test rows: ``gross``, ``net``, ``turnover`` of the chosen variant's long-short.
    delayed : dict of int → Series
        Net test-row returns with ``lag + d`` (same chosen variant), for each delay ``d``.
    all_nan : bool
        True when no variant had a finite objective (the first variant was used).
    """

    fold: Fold
    chosen: int
    in_sample: pd.DataFrame
    oos: pd.DataFrame
    delayed: dict[int, pd.Series]
    all_nan: bool


def in_sample_scores(task: FoldTask, train: WalkForwardData) -> pd.DataFrame:
    """Every variant's objective, Sharpe, annualized mean and count on the training rows.

    ``train`` must end at ``fold.train_stop``; the engine runs from ``lead_in`` sessions
    before ``train_start`` so the book is formed when the training window opens.
    """
    f, s = task.fold, task.settings
    if len(train.index) != f.train_stop:
        raise WalkForwardError(f"fold {f.fold}: in-sample data must end at row {f.train_stop}")
    rows = slice(max(f.train_start - task.lead_in, 0), f.train_stop)
    keep = slice(f.train_start - rows.start, None)
    out = []
    for v in task.variants:
        net = run_variant(train, v, rows, s)["net"].iloc[keep]
        x = net.to_numpy(dtype=np.float64)
        score = objective_value(
            x, task.objective, periods_per_year=s.periods_per_year, min_obs=task.min_train_obs
        )
        out.append(
            {
                "objective": score,
                "sharpe": _sharpe(net, s.periods_per_year),
                "ann_mean": _ann_mean(net, s.periods_per_year),
                "n_obs": int(np.isfinite(x).sum()),
            }
        )
    return pd.DataFrame(out, index=pd.Index([v.label for v in task.variants], name="variant"))


def run_fold(task: FoldTask, data: WalkForwardData) -> FoldResult:
    """Choose a variant in sample, then run it out of sample (module docstring).

    This is the function :func:`alphalab.parallel.map_tasks` maps over the folds (``data``
    is its ``shared`` input). Rows from ``fold.test_stop`` on are cut off first, and the
    in-sample choice only ever sees rows before ``fold.train_stop``.
    """
    f, s = task.fold, task.settings
    visible = data.head(f.test_stop)  # nothing after this fold's test window
    table = in_sample_scores(task, visible.head(f.train_stop))  # nothing after training
    chosen = choose(table["objective"].to_numpy())
    best = task.variants[chosen]
    oos = out_of_sample(visible, best, f, s, lead_in=task.lead_in)
    delayed = {
        d: out_of_sample(visible, best, f, s, lead_in=task.lead_in + d, extra_lag=d)["net"]
        for d in task.delays
    }
    all_nan = not np.isfinite(table["objective"].to_numpy()).any()
    return FoldResult(f, chosen, table, oos, delayed, all_nan)


def out_of_sample(
    data: WalkForwardData,
    variant: Variant,
    fold: Fold,
    settings: EngineSettings,
    *,
    lead_in: int,
    extra_lag: int = 0,
) -> pd.DataFrame:
    """Run ``variant`` on ``[test_start − lead_in, test_stop)`` and keep the test rows."""
    lo = max(fold.test_start - lead_in, 0)
    frame = run_variant(data, variant, slice(lo, fold.test_stop), settings, extra_lag=extra_lag)
    return frame.iloc[fold.test_start - lo :]


# --------------------------------------------------------------------------------------------
# the walk-forward
# --------------------------------------------------------------------------------------------
def map_folds(
    tasks: Sequence[FoldTask],
    data: WalkForwardData,
    *,
    scheduler: str = "local",
    n_workers: int = 2,
    progress: bool = False,
) -> list[FoldResult]:
    """Run :func:`run_fold` over ``tasks`` with :func:`alphalab.parallel.map_tasks`.

    ``data`` is shipped to each worker once; results come back in task order and do not
    depend on the scheduler (every task is deterministic).
    """
    return map_tasks(
        run_fold,
        list(tasks),
        scheduler=scheduler,
        n_workers=n_workers,
        progress=progress,
        desc="walk-forward folds",
        shared=data,
    )


def variant_returns(
    data: WalkForwardData, variants: Sequence[Variant], rows: slice, settings: EngineSettings
) -> pd.DataFrame:
    """Net long-short returns of every variant over ``rows`` (sessions × variant labels).

    The input of the probability of backtest overfitting (CSCV) and of the trial ledger.
    """
    return pd.DataFrame({v.label: run_variant(data, v, rows, settings)["net"] for v in variants})


def stitch(results: Sequence[FoldResult], index: pd.DatetimeIndex) -> pd.DataFrame:
    """Concatenate the folds' test rows: ``gross``, ``net``, ``turnover``, ``fold``.

    Raises
    ------
    WalkForwardError
        If the test windows overlap or leave gaps (they must tile one range).
    """
    pieces = []
    for r in results:
        piece = r.oos.copy()
        piece["fold"] = r.fold.fold
        pieces.append(piece)
    out = (
        pd.concat(pieces) if pieces else pd.DataFrame(columns=["gross", "net", "turnover", "fold"])
    )
    if not out.index.is_unique or not out.index.is_monotonic_increasing:
        raise WalkForwardError("test windows overlap or are out of order")
    starts = [r.fold.test_start for r in results]
    stops = [r.fold.test_stop for r in results]
    if starts[1:] != stops[:-1]:
        raise WalkForwardError("test windows leave gaps between folds")
    out.index.name = index.name or "date"
    return out


def walkforward_efficiency(oos_mean: float, is_mean: float) -> float:
    """Pardo's walk-forward efficiency: annualized OOS return / annualized IS return.

    Both are arithmetic annualized means (mean × periods per year), so the ratio equals the
    ratio of per-period means. NaN when the in-sample return is not positive (the ratio then
    has no meaning as an efficiency).

    References
    ----------
    Pardo (2008), ch. 12, "walk-forward efficiency".
    """
    if not (math.isfinite(oos_mean) and math.isfinite(is_mean)) or is_mean <= 0:
        return math.nan
    return oos_mean / is_mean


def fold_table(
    results: Sequence[FoldResult],
    variants: Sequence[Variant],
    index: pd.DatetimeIndex,
    periods_per_year: int,
) -> pd.DataFrame:
    """One row per fold: windows, chosen parameters, in-sample vs out-of-sample, efficiency."""
    rows = []
    for r in results:
        v = variants[r.chosen]
        is_row = r.in_sample.iloc[r.chosen]
        oos_net = r.oos["net"]
        oos_mean = _ann_mean(oos_net, periods_per_year)
        rows.append(
            {
                "fold": r.fold.fold,
                "kind": r.fold.kind,
                **{k: ts for k, ts in r.fold.dates(index).items()},
                "n_train": r.fold.n_train,
                "n_test": r.fold.n_test,
                "embargo": r.fold.embargo,
                "variant": v.label,
                **v.as_dict(),
                "is_objective": float(is_row["objective"]),
                "is_sharpe": float(is_row["sharpe"]),
                "is_ann_mean": float(is_row["ann_mean"]),
                "oos_sharpe": _sharpe(oos_net, periods_per_year),
                "oos_ann_mean": oos_mean,
                "oos_total_return": float(np.prod(1.0 + oos_net.fillna(0.0).to_numpy()) - 1.0),
                "wf_efficiency": walkforward_efficiency(oos_mean, float(is_row["ann_mean"])),
                "n_valid_variants": int(np.isfinite(r.in_sample["objective"]).sum()),
                "all_nan": r.all_nan,
            }
        )
    return pd.DataFrame(rows)


def variant_table(results: Sequence[FoldResult]) -> pd.DataFrame:
    """Long table fold × variant of in-sample scores, with a ``chosen`` flag."""
    frames = []
    for r in results:
        t = r.in_sample.reset_index()
        t.insert(0, "fold", r.fold.fold)
        t["chosen"] = np.arange(len(t)) == r.chosen
        frames.append(t)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class WalkForwardResult:
    """Result of :func:`walk_forward`.

    Attributes
    ----------
    folds : list of FoldResult
        Walk-forward folds, in time order.
    holdout : FoldResult or None
        The holdout fold (parameters chosen on the data before the holdout).
    variants : tuple of Variant
    oos : DataFrame
        Stitched test rows: ``gross``, ``net``, ``turnover``, ``fold``.
    table : DataFrame
        :func:`fold_table` (walk-forward folds, then the holdout row).
    variants_is : DataFrame
        :func:`variant_table`.
    efficiency : float
        Walk-forward efficiency of the stitched record: annualized OOS mean over the mean of
        the folds' annualized in-sample means of the chosen variants.
    index : DatetimeIndex
        The full session index.
    holdout_start : int or None
        First holdout row.
    conventions : dict
    """

    folds: list[FoldResult]
    holdout: FoldResult | None
    variants: tuple[Variant, ...]
    oos: pd.DataFrame
    table: pd.DataFrame
    variants_is: pd.DataFrame
    efficiency: float
    index: pd.DatetimeIndex
    holdout_start: int | None
    conventions: dict[str, Any]

    @property
    def record(self) -> pd.DataFrame:
        """The whole out-of-sample record: stitched folds, then the holdout (``fold = -1``)."""
        if self.holdout is None:
            return self.oos
        h = self.holdout.oos.copy()
        h["fold"] = -1
        return pd.concat([self.oos, h])

    def delayed_record(self, delay: int) -> pd.Series:
        """Net returns of the record with ``lag + delay`` (chosen parameters unchanged)."""
        parts = [r.delayed[delay] for r in self.folds]
        if self.holdout is not None:
            parts.append(self.holdout.delayed[delay])
        return pd.concat(parts)


def walk_forward(
    data: WalkForwardData,
    variants: Sequence[Variant],
    folds: Sequence[Fold],
    settings: EngineSettings,
    *,
    objective: Objective = "sharpe",
    lead_in: int,
    min_train_obs: int = 126,
    holdout: Fold | None = None,
    delays: Sequence[int] = (),
    scheduler: str = "local",
    n_workers: int = 2,
    progress: bool = False,
) -> WalkForwardResult:
    """Run every fold (choose in sample, test out of sample), stitch, and run the holdout.

    Parameters
    ----------
    data : WalkForwardData
        Engine inputs on the full session index.
    variants : sequence of Variant
        The grid (:func:`expand_grid`).
    folds : sequence of Fold
        From :func:`alphalab.walkforward.folds.plan_folds`; every fold must end before
        ``holdout.test_start``. The folds receive the rows before the holdout only, and each
        cuts them at its own ``test_stop``.
    settings : EngineSettings
    objective : {"sharpe", "t_stat", "net_return"}
    lead_in : int
        Sessions run before each window so the book is formed when it opens.
    min_train_obs : int
        Fewer finite in-sample returns make a variant's objective NaN.
    holdout : Fold, optional
        The holdout fold (:func:`alphalab.walkforward.folds.holdout_fold`).
    delays : sequence of int
        Extra execution lags to rerun with the chosen parameters (stress tests).
    scheduler, n_workers, progress
        Passed to :func:`alphalab.parallel.map_tasks`.

    Returns
    -------
    WalkForwardResult

    References
    ----------
    Pardo (2008), ch. 11–12; López de Prado (2018), ch. 7.
    """
    if not variants:
        raise WalkForwardError("walkforward.grid: no variant to choose from")
    if not folds:
        raise WalkForwardError("no walk-forward fold")
    if holdout is not None:
        late = [f.fold for f in folds if f.test_stop > holdout.test_start]
        if late:
            raise WalkForwardError(
                f"folds {late} reach into the holdout (row {holdout.test_start})"
            )

    def task(fold: Fold) -> FoldTask:
        return FoldTask(
            fold,
            tuple(variants),
            settings,
            objective,
            int(lead_in),
            int(min_train_obs),
            tuple(int(d) for d in delays),
        )

    stop = holdout.test_start if holdout is not None else len(data.index)
    results = map_folds(
        [task(f) for f in folds],
        data.head(stop),
        scheduler=scheduler,
        n_workers=n_workers,
        progress=progress,
    )
    hold = run_fold(task(holdout), data) if holdout is not None else None
    oos = stitch(results, data.index)
    p = settings.periods_per_year
    table = fold_table([*results, *([hold] if hold else [])], variants, data.index, p)
    wf = table[table["kind"] == "walkforward"]
    eff = walkforward_efficiency(_ann_mean(oos["net"], p), float(wf["is_ann_mean"].mean()))
    conventions = {
        "objective": objective,
        "lead_in_sessions": int(lead_in),
        "min_train_obs": int(min_train_obs),
        "series": "net long-short returns of the chosen variant, test rows only",
        "rebalance_rule": "rebalance rows of the whole session calendar (or new_signal rows)",
        "tie_break": "first variant in grid order; all-NaN folds use the first variant",
        "wf_efficiency": "annualized OOS mean / mean of the folds' annualized IS means (Pardo 2008)",
    }
    return WalkForwardResult(
        folds=list(results),
        holdout=hold,
        variants=tuple(variants),
        oos=oos,
        table=table,
        variants_is=variant_table([*results, *([hold] if hold else [])]),
        efficiency=eff,
        index=data.index,
        holdout_start=None if holdout is None else holdout.test_start,
        conventions=conventions,
    )
