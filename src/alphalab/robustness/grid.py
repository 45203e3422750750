"""The specification grid: many variants of one study, each through the same engine.

A *variant* is one way a researcher could reasonably have run the study — number of groups,
weights, lag, holding period, rebalancing, trading-cost level, universe filter and which
dimensions of the signal enter the composite. The grid is the Cartesian product of the axes
in ``params.robustness`` (see :class:`alphalab.config.RobustnessParams`); every variant runs
through :func:`alphalab.backtest.sort_portfolios`, and every variant is scored on the full
sample and on consecutive sub-periods. The grid table (one row per variant × window) is the
input of the specification curve (Simonsohn, Simmons & Nelson 2020) and of the overfitting
statistics, and every full-sample variant is a trial in the ledger.

Work split. One task per *engine configuration* (all axes but the cost level and the
window): the engine runs once, and the cost levels are applied to its gross returns and
turnover (``net = gross − multiplier × rate × turnover``, exactly the engine's own rule).
The panel's matrices are shipped to each Dask worker once (:func:`alphalab.parallel.map_tasks`).

Point in time. Universe filters read only data known at the close of the formation row
(market cap, close, trailing volatility up to that row) and blank the score of the excluded
names on that row; dimension subsets recombine the standardized dimension matrices of the
panel, which are themselves point in time (:mod:`alphalab.panel`).

References
----------
Simonsohn, U., Simmons, J. P. & Nelson, L. D. (2020). Specification curve analysis. *Nature
Human Behaviour* 4, 1208–1214.
Steegen, S., Tuerlinckx, F., Gelman, A. & Vanpaemel, W. (2016). Increasing transparency
through a multiverse analysis. *Perspectives on Psychological Science* 11(5), 702–712.
Harvey, C. R. & Liu, Y. (2021). Lucky factors. *Journal of Financial Economics* 141(2),
413–435 (the variants tried are the multiple-testing set).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alphalab.backtest import CostModel, sort_portfolios
from alphalab.backtest.costs import as_cost_model
from alphalab.config import BacktestParams, RobustnessParams, SignalParams
from alphalab.ledger import Trial, frame_fingerprint
from alphalab.panel import Panel
from alphalab.parallel import SchedulerSpec, map_tasks
from alphalab.signals.price import composite_score, cross_sectional_zscore
from alphalab.stats import performance as perf
from alphalab.stats.inference import newey_west

__all__ = [
    "EngineConfig",
    "GridError",
    "GridInputs",
    "GridResult",
    "base_config",
    "evaluate_config",
    "grid_configs",
    "grid_inputs",
    "resolve_dimension_sets",
    "run_grid",
    "universe_exclusion",
]

SCORE = "score"  # the dimension set that uses the panel's own score
VOLATILITY_WINDOW = 63
VOLATILITY_MIN_OBS = 42


class GridError(ValueError):
    """The grid cannot be built from these params and this panel (names the option)."""


# --------------------------------------------------------------------------------------------
# specifications
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineConfig:
    """One engine run of the grid (every axis but the cost level and the window).

    ``dimensions`` is ``("score",)`` for the panel's own score, otherwise the dimension
    names whose standardized matrices are recombined with the ``signal`` weights.
    """

    n_groups: int
    weighting: str
    lag: int
    holding: int
    rebalance: str
    universe: str
    dimensions: tuple[str, ...]

    @property
    def dimension_label(self) -> str:
        return "+".join(self.dimensions)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dimensions"] = list(self.dimensions)
        return out


def resolve_dimension_sets(
    tokens: Sequence[str], available: Sequence[str]
) -> list[tuple[str, ...]]:
    """Expand ``all`` / ``each`` / ``drop_each`` / ``a+b`` into unique dimension tuples.

    ``all`` is ``("score",)`` (the panel's score itself). ``each`` and ``drop_each`` need the
    panel's dimension matrices; with none (or one, for ``drop_each``) they expand to nothing —
    the caller reports that in its notes. Explicit names must exist in the panel.
    """
    out: list[tuple[str, ...]] = []
    for token in tokens:
        if token == "all":
            sets: list[tuple[str, ...]] = [(SCORE,)]
        elif token == "each":
            sets = [(d,) for d in available]
        elif token == "drop_each":
            sets = (
                [tuple(d for d in available if d != x) for x in available]
                if len(available) > 1
                else []
            )
        else:
            names = tuple(token.split("+"))
            unknown = [n for n in names if n not in available]
            if unknown:
                raise GridError(
                    f"robustness.dimension_sets: {token!r} names {unknown}, not among the "
                    f"panel's dimensions {list(available)}"
                )
            sets = [names]
        out.extend(s for s in sets if s not in out)
    return out


def grid_configs(
    robustness: RobustnessParams, dimension_names: Sequence[str]
) -> tuple[list[EngineConfig], list[str]]:
    """The engine configurations of the grid, in a fixed order, and notes on empty expansions."""
    notes = []
    dims = resolve_dimension_sets(robustness.dimension_sets, dimension_names)
    for token in robustness.dimension_sets:
        if token in ("each", "drop_each") and not resolve_dimension_sets([token], dimension_names):
            notes.append(
                f"robustness.dimension_sets {token!r} adds no variant: the panel has "
                f"{len(dimension_names)} dimension matrix(es)"
            )
    axes = itertools.product(
        robustness.n_groups,
        robustness.weighting,
        robustness.lag,
        robustness.holding,
        robustness.rebalance,
        robustness.universes,
        dims,
    )
    configs = [EngineConfig(*values) for values in axes]
    return configs, notes


def base_config(backtest: BacktestParams) -> EngineConfig:
    """The study's own specification (``backtest`` params, the panel score, every name)."""
    return EngineConfig(
        n_groups=backtest.n_groups,
        weighting=backtest.weighting,
        lag=backtest.lag,
        holding=backtest.holding,
        rebalance=backtest.rebalance,
        universe="all",
        dimensions=(SCORE,),
    )


# --------------------------------------------------------------------------------------------
# shared inputs (shipped to each worker once)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A sample window: rows ``[first, last)`` of the panel's dates."""

    label: str
    first: int
    last: int


@dataclass(frozen=True)
class GridInputs:
    """Everything a grid task reads: the panel's matrices and the fixed engine options."""

    score: pd.DataFrame
    ret: pd.DataFrame
    close: pd.DataFrame
    market_cap: pd.DataFrame | None
    dimensions: dict[str, pd.DataFrame]
    weights: dict[str, float]
    signs: dict[str, int]
    rebalance_mask: pd.Series | None
    cost: CostModel
    cost_multipliers: tuple[float, ...]
    windows: tuple[Window, ...]
    direction: int
    min_names: int
    delisting_return: float | None
    periods_per_year: float
    keep_gross: bool = False
    volatility: pd.DataFrame | None = field(default=None, repr=False)


def _windows(index: pd.Index, n_subperiods: int) -> tuple[Window, ...]:
    out = [Window("full", 0, len(index))]
    if n_subperiods >= 2:
        for k, rows in enumerate(np.array_split(np.arange(len(index)), n_subperiods), start=1):
            if rows.size:
                out.append(Window(f"sub{k}", int(rows[0]), int(rows[-1]) + 1))
    return tuple(out)


def _standardized_dimensions(panel: Panel) -> dict[str, pd.DataFrame]:
    """Panel dimensions on a common scale: composite panels store z-scores already."""
    if str(panel.meta.get("signal", "")).startswith("composite"):
        return dict(panel.dimensions)
    return {name: cross_sectional_zscore(frame) for name, frame in panel.dimensions.items()}


def _dimension_specs(panel: Panel, signal: SignalParams) -> tuple[dict[str, float], dict[str, int]]:
    weights: dict[str, float] = {}
    signs: dict[str, int] = {}
    for name in panel.dimensions:
        spec = signal.dimensions.get(name)
        if spec is None:
            raise GridError(
                f"panel dimension {name!r} has no weight in signal.dimensions "
                f"({sorted(signal.dimensions)}); declare it to use it in robustness.dimension_sets"
            )
        weights[name], signs[name] = float(spec.weight), int(spec.sign)
    return weights, signs


def grid_inputs(
    panel: Panel,
    *,
    robustness: RobustnessParams,
    backtest: BacktestParams,
    signal: SignalParams,
    keep_gross: bool = False,
) -> GridInputs:
    """Collect the panel matrices and fixed options every grid task needs."""
    if panel.score is None:
        raise GridError("panel has no score: build it with a signal before the robustness grid")
    weights, signs = _dimension_specs(panel, signal) if panel.dimensions else ({}, {})
    mask = None
    if "availability" in robustness.rebalance or backtest.rebalance == "availability":
        if panel.new_signal is None:
            raise GridError("rebalance 'availability' needs the panel's new_signal matrix")
        mask = panel.new_signal.any(axis=1)
    needs_vol = any(u.startswith("ex_volatile") for u in robustness.universes)
    return GridInputs(
        score=panel.score,
        ret=panel.ret,
        close=panel.close,
        market_cap=panel.market_cap,
        dimensions=_standardized_dimensions(panel) if panel.dimensions else {},
        weights=weights,
        signs=signs,
        rebalance_mask=mask,
        cost=as_cost_model(backtest.costs),
        cost_multipliers=tuple(float(c) for c in robustness.cost_multipliers),
        windows=_windows(panel.ret.index, robustness.n_subperiods),
        direction=int(backtest.direction),
        min_names=int(backtest.min_names),
        delisting_return=backtest.delisting_return,
        periods_per_year=float(backtest.ann_factor),
        keep_gross=keep_gross,
        volatility=trailing_volatility(panel.ret) if needs_vol else None,
    )


def trailing_volatility(ret: pd.DataFrame) -> pd.DataFrame:
    """Sample sd of the last 63 sessions' returns up to and including each row (>= 42 obs)."""
    return ret.rolling(VOLATILITY_WINDOW, min_periods=VOLATILITY_MIN_OBS).std()


# --------------------------------------------------------------------------------------------
# universe filters and signal
# --------------------------------------------------------------------------------------------
def _lowest(values: np.ndarray, share: float) -> np.ndarray:
    """Per row, the ``floor(share · n)`` cells with the lowest finite values (ties: by column)."""
    finite = np.isfinite(values)
    keyed = np.where(finite, values, np.inf)
    rank = np.argsort(np.argsort(keyed, axis=1, kind="stable"), axis=1, kind="stable")
    k = np.floor(share * finite.sum(axis=1))
    return finite & (rank < k[:, None])


def universe_exclusion(universe: str, inputs: GridInputs) -> np.ndarray | None:
    """Boolean dates × tickers matrix of names excluded by ``universe`` (None for ``all``).

    ``ex_smallest:F`` / ``ex_lowest_price:F`` exclude the ``floor(F·n)`` names with the lowest
    market cap / close on each row (``n`` = names with a value); ``ex_volatile:F`` the
    ``floor(F·n)`` with the highest trailing 63-session volatility; ``min_price:P`` names whose
    close is below ``P``.
    """
    if universe == "all":
        return None
    kind, _, arg = universe.partition(":")
    value = float(arg)
    if kind == "ex_smallest":
        if inputs.market_cap is None:
            raise GridError(
                f"robustness.universes {universe!r} needs market caps; the panel has none "
                "(use ex_volatile or min_price, or prices with a market_cap column)"
            )
        return _lowest(inputs.market_cap.to_numpy(dtype=np.float64), value)
    if kind == "ex_lowest_price":
        return _lowest(inputs.close.to_numpy(dtype=np.float64), value)
    if kind == "ex_volatile":
        vol = (
            inputs.volatility if inputs.volatility is not None else trailing_volatility(inputs.ret)
        )
        return _lowest(-vol.to_numpy(dtype=np.float64), value)
    if kind == "min_price":
        close = inputs.close.to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.isfinite(close) & (close < value)
    raise GridError(f"robustness.universes: unknown filter {universe!r}")


def variant_score(config: EngineConfig, inputs: GridInputs) -> pd.DataFrame:
    """The score matrix of a configuration: its dimension set, then its universe filter."""
    if config.dimensions == (SCORE,):
        score = inputs.score
    else:
        dims = {d: inputs.dimensions[d] for d in config.dimensions}
        score = composite_score(
            dims,
            {d: inputs.weights[d] for d in config.dimensions},
            {d: inputs.signs[d] for d in config.dimensions},
        )
    excluded = universe_exclusion(config.universe, inputs)
    if excluded is None:
        return score
    values = score.to_numpy(dtype=np.float64, copy=True)
    values[excluded] = np.nan
    return pd.DataFrame(values, index=score.index, columns=score.columns)


# --------------------------------------------------------------------------------------------
# one task
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConfigResult:
    """What one engine run returns: statistic rows and the full-sample long-short series."""

    rows: list[dict[str, Any]]
    net: dict[float, np.ndarray]
    score_hash: str
    gross: np.ndarray | None
    turnover: np.ndarray | None


def sort_config(score: pd.DataFrame, config: EngineConfig, inputs: GridInputs) -> Any:
    """The engine run of one configuration on ``score``, gross (costs are applied per level)."""
    return sort_portfolios(
        score,
        inputs.ret,
        n_groups=config.n_groups,
        rebalance=config.rebalance,  # type: ignore[arg-type]
        holding=config.holding,
        lag=config.lag,
        weighting=config.weighting,  # type: ignore[arg-type]
        market_cap=inputs.market_cap if config.weighting == "value" else None,
        direction=inputs.direction,  # type: ignore[arg-type]
        min_names=inputs.min_names,
        costs=None,
        delisting_return=inputs.delisting_return,
        rebalance_mask=inputs.rebalance_mask if config.rebalance == "availability" else None,
    )


def evaluate_config(config: EngineConfig, inputs: GridInputs) -> ConfigResult:
    """Run one configuration through the engine; score every cost level on every window.

    Pure: the output depends only on ``config`` and ``inputs`` (safe on any Dask worker).
    """
    score = variant_score(config, inputs)
    res = sort_config(score, config, inputs)
    gross = res.returns["long_short"].to_numpy()
    turnover = res.turnover["long_short"].to_numpy()
    net: dict[float, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    for mult in inputs.cost_multipliers:
        series = gross - mult * inputs.cost.rate * turnover
        net[mult] = series
        for window in inputs.windows:
            rows.append(_row(config, inputs, mult, window, series, gross, turnover))
    keep = inputs.keep_gross
    return ConfigResult(
        rows, net, frame_fingerprint(score), gross if keep else None, turnover if keep else None
    )


def _row(
    config: EngineConfig,
    inputs: GridInputs,
    mult: float,
    window: Window,
    series: np.ndarray,
    gross: np.ndarray,
    turnover: np.ndarray,
) -> dict[str, Any]:
    rows = slice(window.first, window.last)
    part = series[rows]
    dates = inputs.ret.index
    valid = np.flatnonzero(np.isfinite(part))
    stats = _safe_summary(part, gross[rows], turnover[rows], inputs.periods_per_year)
    return {
        **config.as_dict(),
        "dimensions": config.dimension_label,
        "cost_multiplier": mult,
        "cost_bps": mult * inputs.cost.total_bps,
        "window": window.label,
        "start": dates[window.first + valid[0]] if valid.size else pd.NaT,
        "end": dates[window.first + valid[-1]] if valid.size else pd.NaT,
        **stats,
    }


STAT_COLUMNS = (
    "n_obs",
    "mean",
    "ann_return",
    "ann_vol",
    "sharpe",
    "t_nw",
    "nw_lags",
    "max_drawdown",
    "skew",
    "kurtosis",
    "hit_rate",
    "turnover",
    "break_even_bps",
)


def _safe_summary(
    part: np.ndarray, gross: np.ndarray, turn: np.ndarray, ppy: float
) -> dict[str, Any]:
    ok = np.isfinite(part)
    if ok.sum() < 4:
        return {k: (int(ok.sum()) if k == "n_obs" else math.nan) for k in STAT_COLUMNS}
    return series_stats(part[ok], turn[ok], periods_per_year=ppy, gross=gross[ok])


def series_stats(
    returns: np.ndarray,
    turnover: np.ndarray | None,
    *,
    periods_per_year: float,
    gross: np.ndarray | None = None,
) -> dict[str, Any]:
    """The grid's statistics of one series without missing values (``STAT_COLUMNS``).

    The same definitions as :func:`alphalab.stats.performance.summarize` (checked to 1e-12
    in the tests), computed with the cheap building blocks: the grid scores hundreds of
    series, and scipy's per-call overhead in ``skew``/``kurtosis`` dominated the run.
    ``turnover`` adds its mean and the break-even cost, computed on ``gross`` returns when
    given (the cost that takes the *gross* mean to zero), else on ``returns``.

    References
    ----------
    Sharpe (1994), JPM 21(1) (Sharpe ratio); Newey & West (1987), Econometrica 55(3) and
    (1994), REStud 61(4) (``t_nw`` and its lag rule); Novy-Marx & Velikov (2016), RFS 29(1)
    (break-even cost) — as in :mod:`alphalab.stats.performance`.
    """
    r = np.asarray(returns, dtype=np.float64)
    dev = r - r.mean()
    d2 = dev * dev
    m2 = float(d2.mean())
    nw = newey_west(r)
    out = {
        "n_obs": int(r.size),
        "mean": float(r.mean()),
        "ann_return": perf.ann_return(r, periods_per_year=periods_per_year),
        "ann_vol": perf.ann_vol(r, periods_per_year=periods_per_year),
        "sharpe": perf.sharpe(r, periods_per_year=periods_per_year),
        "t_nw": nw.t,
        "nw_lags": nw.lags,
        "max_drawdown": perf.max_drawdown(r),
        "skew": float((d2 * dev).mean()) / m2**1.5 if m2 > 0 else math.nan,
        "kurtosis": float((d2 * d2).mean()) / m2**2 if m2 > 0 else math.nan,
        "hit_rate": perf.hit_rate(r),
        "turnover": math.nan,
        "break_even_bps": math.nan,
    }
    if turnover is not None:
        out["turnover"] = float(np.mean(turnover))
        base = r if gross is None else np.asarray(gross, dtype=np.float64)
        out["break_even_bps"] = perf.break_even_cost(base, turnover)
    return out


# --------------------------------------------------------------------------------------------
# the whole grid
# --------------------------------------------------------------------------------------------
@dataclass
class GridResult:
    """Outcome of :func:`run_grid`.

    Attributes
    ----------
    table : DataFrame
        One row per variant × window: ``variant`` id, the spec columns, ``cost_multiplier``,
        ``cost_bps``, ``window`` (``full``, ``sub1`` …), ``start``, ``end`` and the statistics
        (``n_obs, mean, ann_return, ann_vol, sharpe, t_nw, nw_lags, max_drawdown, skew,
        kurtosis, hit_rate, turnover, break_even_bps``; conventions of
        :func:`alphalab.stats.performance.summarize`).
    returns : DataFrame
        Full-sample net long-short returns, dates × variant id (NaN before a variant's first
        trade) — the performance matrix of PBO, SPA and StepM.
    specs : DataFrame
        One row per variant: its id and fully resolved specification (the ledger's variant).
    n_engine_runs : int
    notes : list of str
        What the grid could not add, and why.
    """

    table: pd.DataFrame
    returns: pd.DataFrame
    specs: pd.DataFrame
    n_engine_runs: int
    notes: list[str] = field(default_factory=list)

    @property
    def full(self) -> pd.DataFrame:
        """The full-sample rows (one per variant), in variant order."""
        return self.table[self.table["window"] == "full"].reset_index(drop=True)

    @property
    def n_variants(self) -> int:
        return int(self.returns.shape[1])

    def common_returns(self) -> pd.DataFrame:
        """``returns`` on the rows where every variant has a return (PBO / SPA input)."""
        return self.returns.dropna(how="any")

    def trials(self, *, params_hash: str, data_hash: str, source: str = "grid") -> list[Trial]:
        """One ledger trial per full-sample variant (per-period Sharpe of its net returns)."""
        out = []
        for variant, spec in zip(self.specs["variant"], self.specs["spec"], strict=True):
            stats = _trial_stats(self.returns[variant].to_numpy())
            if stats is None:
                continue
            out.append(
                Trial(
                    params_hash=params_hash,
                    data_hash=data_hash,
                    variant=spec,
                    source=source,  # type: ignore[arg-type]
                    periods_per_year=float(spec["periods_per_year"]),
                    **stats,
                )
            )
        return out


def _trial_stats(series: np.ndarray) -> dict[str, Any] | None:
    from scipy import stats as sps

    x = series[np.isfinite(series)]
    if x.size < 4 or np.ptp(x) == 0.0:
        return None
    return {
        "sharpe": float(x.mean() / x.std(ddof=1)),
        "skew": float(sps.skew(x, bias=True)),
        "kurtosis": float(sps.kurtosis(x, fisher=False, bias=True)),
        "n_obs": int(x.size),
    }


def resolved_spec(
    config: EngineConfig, mult: float, inputs: GridInputs, score_hash: str
) -> dict[str, Any]:
    """Every setting that determines a variant's full-sample return series (the ledger key).

    ``score_hash`` fingerprints the score matrix the engine sorted on (after the dimension
    set and the universe filter), so a change of signal weights or frequency is a new trial
    while an unchanged matrix is the same trial whatever params produced it.
    """
    dims = list(config.dimensions)
    return {
        **config.as_dict(),
        "score_hash": score_hash,
        "weights": {d: inputs.weights[d] for d in dims if d != SCORE},
        "signs": {d: inputs.signs[d] for d in dims if d != SCORE},
        "cost_bps": mult * inputs.cost.total_bps,
        "direction": inputs.direction,
        "min_names": inputs.min_names,
        "delisting_return": inputs.delisting_return,
        "periods_per_year": inputs.periods_per_year,
        "series": "long_short net of costs",
        "window": [str(inputs.ret.index[0].date()), str(inputs.ret.index[-1].date())],
    }


def run_grid(
    panel: Panel,
    *,
    robustness: RobustnessParams,
    backtest: BacktestParams,
    signal: SignalParams,
    scheduler: SchedulerSpec | Any = None,
    n_workers: int | None = None,
    progress: bool | None = None,
) -> GridResult:
    """Evaluate every variant of the grid (params in ``robustness``) through the engine.

    Parameters
    ----------
    panel : Panel
        The study's panel (see :mod:`alphalab.panel`).
    robustness, backtest, signal : params sections
        Grid axes; fixed engine options and costs; dimension weights and signs.
    scheduler, n_workers, progress
        Passed to :func:`alphalab.parallel.map_tasks`; default from ``robustness``. An open
        ``distributed.Client`` may be given to reuse a cluster.

    Returns
    -------
    GridResult

    References
    ----------
    Simonsohn, Simmons & Nelson (2020), Nature Human Behaviour 4 (specification curve).
    """
    configs, notes = grid_configs(robustness, list(panel.dimensions))
    if not configs:
        raise GridError("robustness grid is empty: every axis needs at least one value")
    inputs = grid_inputs(panel, robustness=robustness, backtest=backtest, signal=signal)
    results = map_tasks(
        evaluate_config,
        configs,
        scheduler=robustness.scheduler if scheduler is None else scheduler,
        n_workers=robustness.n_workers if n_workers is None else n_workers,
        progress=robustness.progress if progress is None else progress,
        desc="robustness grid",
        shared=inputs,
    )
    return assemble_grid(configs, results, inputs, notes=notes)


def assemble_grid(
    configs: Sequence[EngineConfig],
    results: Sequence[ConfigResult],
    inputs: GridInputs,
    *,
    notes: list[str] | None = None,
) -> GridResult:
    """Number the variants (config order, then cost level) and stack rows and series."""
    rows: list[dict[str, Any]] = []
    series: dict[str, np.ndarray] = {}
    specs: list[dict[str, Any]] = []
    n_windows = len(inputs.windows)
    k = 0
    for config, result in zip(configs, results, strict=True):
        for j, mult in enumerate(inputs.cost_multipliers):
            variant = f"v{k:04d}"
            for row in result.rows[j * n_windows : (j + 1) * n_windows]:
                rows.append({"variant": variant, **row})
            series[variant] = result.net[mult]
            spec = resolved_spec(config, mult, inputs, result.score_hash)
            specs.append({"variant": variant, "spec": spec})
            k += 1
    table = pd.DataFrame(rows)
    returns = pd.DataFrame(series, index=inputs.ret.index)
    return GridResult(
        table=table,
        returns=returns,
        specs=pd.DataFrame(specs),
        n_engine_runs=len(configs),
        notes=list(notes or []),
    )


def mark_base(table: pd.DataFrame, base: EngineConfig) -> pd.Series:
    """Boolean over ``table`` rows: the base specification at cost multiplier 1."""
    cols: Mapping[str, Any] = {**base.as_dict(), "dimensions": base.dimension_label}
    hit = table["cost_multiplier"] == 1.0
    for name, value in cols.items():
        hit &= table[name] == value
    return hit
