"""Multiple testing: SPA and StepM over many strategies, adjusted p-values, Sharpe haircuts.

Sign convention. ``arch.bootstrap.SPA`` and ``StepM`` take **losses** (lower is better). The
wrappers here make the caller say which one they pass, with the required keyword ``kind``:

- ``kind="returns"``: strategy and benchmark **returns** (higher is better); they are turned
  into losses as ``loss = -return`` before calling arch.
- ``kind="losses"``: the inputs are already losses and go to arch unchanged.

Either way ``mean_advantage`` in the results is ``mean(benchmark loss − model loss)``: positive
means the model beats the benchmark (for returns, the mean excess return over the benchmark).

References
----------
White, H. (2000). A reality check for data snooping. *Econometrica* 68(5), 1097–1126.
Hansen, P. R. (2005). A test for superior predictive ability. *JBES* 23(4), 365–380.
Romano, J. P. & Wolf, M. (2005). Stepwise multiple testing as formalized data snooping.
*Econometrica* 73(4), 1237–1282.
Harvey, C. R. & Liu, Y. (2015). Backtesting. *Journal of Portfolio Management* 42(1), 13–28.
Harvey, C. R., Liu, Y. & Zhu, H. (2016). … and the cross-section of expected returns. *RFS*
29(1), 5–68.
Benjamini, Y. & Yekutieli, D. (2001). The control of the false discovery rate in multiple
testing under dependency. *Annals of Statistics* 29(4), 1165–1188.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J. Stat.* 6.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import pandas as pd
from arch.bootstrap import SPA, StepM, optimal_block_length
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

__all__ = [
    "HaircutResult",
    "SPAResult",
    "StepMResult",
    "adjusted_pvalues",
    "sharpe_haircut",
    "spa_test",
    "stepm",
]

Kind = Literal["returns", "losses"]
Bootstrap = Literal["stationary", "circular", "moving_block"]
AdjustMethod = Literal["bonferroni", "holm", "bhy"]

ArchBootstrap = Literal["stationary", "circular", "mbb"]
_ARCH_BOOTSTRAP: dict[str, ArchBootstrap] = {
    "stationary": "stationary",
    "circular": "circular",
    "moving_block": "mbb",
}


# --------------------------------------------------------------------------------------------
# SPA and StepM (thin wrappers over arch)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SPAResult:
    """Outcome of :func:`spa_test`.

    Attributes
    ----------
    pvalue : float
        Hansen's consistent p-value of H0: no model beats the benchmark.
    pvalues : Series
        ``lower``, ``consistent`` and ``upper`` p-values (upper = White's reality check).
    critical_values : Series
        Bootstrap critical values of the maximum mean advantage at ``size``.
    better_models : list
        Labels of models whose mean advantage exceeds the consistent critical value.
    mean_advantage : Series
        ``mean(benchmark loss − model loss)`` per model; > 0 means better than the benchmark.
    """

    pvalue: float
    pvalues: pd.Series
    critical_values: pd.Series
    better_models: list[Hashable]
    mean_advantage: pd.Series
    size: float
    kind: Kind
    block_size: int
    reps: int
    bootstrap: Bootstrap
    studentize: bool
    seed: int


@dataclass(frozen=True)
class StepMResult:
    """Outcome of :func:`stepm`: models found superior to the benchmark at FWER ``size``."""

    superior: list[Hashable]
    is_superior: pd.Series
    mean_advantage: pd.Series
    size: float
    kind: Kind
    block_size: int
    reps: int
    bootstrap: Bootstrap
    studentize: bool
    seed: int


def spa_test(
    models: pd.DataFrame | pd.Series | ArrayLike,
    benchmark: pd.Series | ArrayLike | float,
    *,
    kind: Kind,
    seed: int,
    reps: int = 1000,
    block_size: int | None = None,
    bootstrap: Bootstrap = "stationary",
    studentize: bool = True,
    nested: bool = False,
    size: float = 0.05,
) -> SPAResult:
    """Hansen's test of superior predictive ability of any model over a benchmark.

    H0: no model has a lower expected loss (higher expected return) than the benchmark.

    Parameters
    ----------
    models : DataFrame, Series or array_like
        ``T × k`` per-period returns or losses of the candidate models (columns are models).
    benchmark : Series, array_like or float
        ``T`` per-period returns or losses of the benchmark; a float is a constant benchmark
        (e.g. ``0.0`` for "does any strategy earn a positive mean").
    kind : {"returns", "losses"}
        What ``models`` and ``benchmark`` hold. Returns are negated into losses (see module
        docstring); there is no default, so the sign convention is always explicit.
    seed : int
        Seed of the bootstrap (passed to arch, which uses ``numpy.random.default_rng(seed)``).
    reps : int, default 1000
        Bootstrap replications.
    block_size : int, optional
        Block length. ``None`` uses the Politis–White optimal block length (Patton, Politis &
        White 2009, ``arch.bootstrap.optimal_block_length``) of the loss differentials,
        averaged over models and rounded up (its stationary column for the stationary
        bootstrap, its circular column otherwise).
    bootstrap : {"stationary", "circular", "moving_block"}, default "stationary"
    studentize, nested : bool
        Passed to arch (studentized loss differentials; nested bootstrap for their variance).
    size : float, default 0.05
        Level for ``critical_values`` and ``better_models``.

    Returns
    -------
    SPAResult

    References
    ----------
    Hansen (2005), JBES 23(4) (studentized max statistic; consistent p-value with the
    ``-sqrt(2 log log T)`` threshold); White (2000), Econometrica 68(5) (reality check = the
    ``upper`` p-value). Implementation: ``arch.bootstrap.SPA``.
    """
    losses, bench, labels = _loss_inputs(models, benchmark, kind)
    b = _resolve_block_size(block_size, bench[:, None] - losses, bootstrap)
    spa = SPA(
        bench,
        losses,
        block_size=b,
        reps=_check_reps(reps),
        bootstrap=_arch_bootstrap(bootstrap),
        studentize=studentize,
        nested=nested,
        seed=_check_seed(seed),
    )
    spa.compute()
    _check_size(size)
    better = [labels[i] for i in spa.better_models(size, "consistent")]
    return SPAResult(
        pvalue=float(spa.pvalues["consistent"]),
        pvalues=spa.pvalues.astype(float).rename("pvalue"),
        critical_values=spa.critical_values(size).astype(float).rename("critical_value"),
        better_models=better,
        mean_advantage=_mean_advantage(bench, losses, labels),
        size=float(size),
        kind=kind,
        block_size=b,
        reps=int(reps),
        bootstrap=bootstrap,
        studentize=bool(studentize),
        seed=int(seed),
    )


def stepm(
    models: pd.DataFrame | pd.Series | ArrayLike,
    benchmark: pd.Series | ArrayLike | float,
    *,
    kind: Kind,
    seed: int,
    size: float = 0.05,
    reps: int = 1000,
    block_size: int | None = None,
    bootstrap: Bootstrap = "stationary",
    studentize: bool = True,
    nested: bool = False,
) -> StepMResult:
    """Romano–Wolf StepM: the set of models superior to the benchmark, controlling the FWER.

    Parameters are those of :func:`spa_test`; ``size`` is the family-wise error rate.

    Returns
    -------
    StepMResult
        ``superior`` lists the model labels rejected as equal-or-worse than the benchmark.

    References
    ----------
    Romano & Wolf (2005), Econometrica 73(4), the StepM algorithm, with Hansen's (2005)
    consistent re-centring. Implementation: ``arch.bootstrap.StepM``.
    """
    losses, bench, labels = _loss_inputs(models, benchmark, kind)
    b = _resolve_block_size(block_size, bench[:, None] - losses, bootstrap)
    step = StepM(
        bench,
        losses,
        size=_check_size(size),
        block_size=b,
        reps=_check_reps(reps),
        bootstrap=_arch_bootstrap(bootstrap),
        studentize=studentize,
        nested=nested,
        seed=_check_seed(seed),
    )
    step.compute()
    # arch returns column positions for ndarray input (it returns names only for DataFrames)
    idx = sorted(int(i) for i in cast("list[int]", step.superior_models))
    superior = [labels[i] for i in idx]
    mask = np.zeros(len(labels), dtype=bool)
    mask[idx] = True
    return StepMResult(
        superior=superior,
        is_superior=pd.Series(mask, index=pd.Index(labels), name="superior"),
        mean_advantage=_mean_advantage(bench, losses, labels),
        size=float(size),
        kind=kind,
        block_size=b,
        reps=int(reps),
        bootstrap=bootstrap,
        studentize=bool(studentize),
        seed=int(seed),
    )


def _loss_inputs(
    models: pd.DataFrame | pd.Series | ArrayLike,
    benchmark: pd.Series | ArrayLike | float,
    kind: Kind,
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[Hashable]]:
    if kind not in ("returns", "losses"):
        raise ValueError(f"kind must be 'returns' or 'losses', got {kind!r}")
    if isinstance(models, pd.DataFrame):
        labels: list[Hashable] = list(models.columns)
        m = models.to_numpy(dtype=np.float64)
    elif isinstance(models, pd.Series):
        labels = [models.name if models.name is not None else 0]
        m = models.to_numpy(dtype=np.float64)[:, None]
    else:
        m = np.asarray(models, dtype=np.float64)
        m = m[:, None] if m.ndim == 1 else m
        labels = list(range(m.shape[1])) if m.ndim == 2 else []
    if m.ndim != 2 or m.shape[0] < 10:
        raise ValueError(f"models must be T × k with T >= 10 periods, got shape {m.shape}")
    b = _benchmark_vector(benchmark, m.shape[0])
    _check_finite(m, "models", labels)
    if isinstance(models, pd.DataFrame | pd.Series) and isinstance(benchmark, pd.Series):
        if not models.index.equals(benchmark.index):
            raise ValueError("models and benchmark must share the same index (align them first)")
    sign = -1.0 if kind == "returns" else 1.0
    return sign * m, sign * b, labels


def _benchmark_vector(benchmark: pd.Series | ArrayLike | float, n_obs: int) -> NDArray[np.float64]:
    if np.ndim(benchmark) == 0:
        value = float(benchmark)  # type: ignore[arg-type]
        if not math.isfinite(value):
            raise ValueError(f"benchmark must be finite, got {value!r}")
        return np.full(n_obs, value)
    b = np.asarray(benchmark, dtype=np.float64).reshape(-1)
    if b.shape[0] != n_obs:
        raise ValueError(f"benchmark has {b.shape[0]} observations, models have {n_obs}")
    _check_finite(b[:, None], "benchmark", ["benchmark"])
    return b


def _check_finite(x: NDArray[np.float64], name: str, labels: list[Hashable]) -> None:
    bad_rows, bad_cols = np.nonzero(~np.isfinite(x))
    if bad_rows.size:
        raise ValueError(
            f"{name} has {bad_rows.size} non-finite value(s); first at row {bad_rows[0] + 1} "
            f"(1-based), column {labels[bad_cols[0]]!r}"
        )


def _resolve_block_size(
    block_size: int | None, loss_diff: NDArray[np.float64], bootstrap: Bootstrap
) -> int:
    if block_size is not None:
        if isinstance(block_size, bool) or int(block_size) != block_size or block_size < 1:
            raise ValueError(f"block_size must be an integer >= 1, got {block_size!r}")
        return int(block_size)
    # columns: stationary ("b_sb" before arch 8), then circular ("b_cb")
    column = 0 if bootstrap == "stationary" else 1
    opt = optimal_block_length(loss_diff).iloc[:, column].to_numpy(dtype=np.float64)
    return max(1, math.ceil(float(np.mean(opt))))


def _mean_advantage(
    bench: NDArray[np.float64], losses: NDArray[np.float64], labels: list[Hashable]
) -> pd.Series:
    adv = (bench[:, None] - losses).mean(axis=0)
    return pd.Series(adv, index=pd.Index(labels), name="mean_advantage")


def _check_reps(reps: int) -> int:
    if isinstance(reps, bool) or int(reps) != reps or reps < 1:
        raise ValueError(f"reps must be an integer >= 1, got {reps!r}")
    return int(reps)


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_size(size: float) -> float:
    if not 0.0 < size < 1.0:
        raise ValueError(f"size must be in (0, 1), got {size!r}")
    return float(size)


def _arch_bootstrap(bootstrap: str) -> ArchBootstrap:
    if bootstrap not in _ARCH_BOOTSTRAP:
        raise ValueError(f"bootstrap must be one of {sorted(_ARCH_BOOTSTRAP)}, got {bootstrap!r}")
    return _ARCH_BOOTSTRAP[bootstrap]


# --------------------------------------------------------------------------------------------
# Adjusted p-values and Sharpe haircuts
# --------------------------------------------------------------------------------------------


def adjusted_pvalues(
    pvals: ArrayLike | pd.Series, *, method: AdjustMethod
) -> NDArray[np.float64] | pd.Series:
    r"""Multiple-testing adjusted p-values (Bonferroni, Holm, Benjamini–Hochberg–Yekutieli).

    With ``m`` tests and ascending p-values ``p_(1) ≤ … ≤ p_(m)``:

    - Bonferroni: ``min(1, m·p_i)`` (controls the FWER).
    - Holm: ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j))`` (step-down, FWER).
    - BHY: ``p̃_(i) = min_{j ≥ i} min(1, m·c(m)·p_(j) / j)``, ``c(m) = Σ_{k=1}^{m} 1/k``
      (step-up, controls the FDR under arbitrary dependence).

    Parameters
    ----------
    pvals : array_like or Series
        Unadjusted p-values in [0, 1], no NaN.
    method : {"bonferroni", "holm", "bhy"}

    Returns
    -------
    ndarray or Series
        Adjusted p-values in the input order (a Series keeps its index).

    References
    ----------
    Harvey, Liu & Zhu (2016), RFS 29(1) (the three adjustments as used for factor t-statistics,
    formulas above); Holm (1979); Benjamini & Yekutieli (2001), Theorem 1.3 (BH step-up with
    c(m) = Σ 1/k under arbitrary dependence).
    """
    p = np.asarray(pvals, dtype=np.float64).reshape(-1)
    if p.size == 0:
        raise ValueError("pvals is empty")
    if not np.all((p >= 0.0) & (p <= 1.0)):
        bad = np.flatnonzero(~((p >= 0.0) & (p <= 1.0)))[0]
        raise ValueError(f"pvals must lie in [0, 1]; position {bad} holds {p[bad]!r}")
    adj = _adjust_sorted(p, method)
    if isinstance(pvals, pd.Series):
        return pd.Series(adj, index=pvals.index, name=pvals.name)
    return adj


def _adjust_sorted(p: NDArray[np.float64], method: AdjustMethod) -> NDArray[np.float64]:
    m = p.size
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    j = np.arange(1, m + 1, dtype=np.float64)
    if method == "holm":
        adj_sorted = np.maximum.accumulate(np.minimum(1.0, (m - j + 1.0) * ps))
    elif method == "bhy":
        c_m = float(np.sum(1.0 / j))
        adj_sorted = np.minimum.accumulate(np.minimum(1.0, m * c_m * ps / j)[::-1])[::-1]
    else:
        raise ValueError(f"method must be 'bonferroni', 'holm' or 'bhy', got {method!r}")
    out = np.empty(m)
    out[order] = adj_sorted
    return out


@dataclass(frozen=True)
class HaircutResult:
    """Outcome of :func:`sharpe_haircut`.

    Attributes
    ----------
    sharpe_annual : float
        The reported (annualized) Sharpe ratio.
    haircut_sharpe : float
        Annualized Sharpe ratio implied by the multiple-testing adjusted p-value.
    haircut : float
        ``1 − haircut_sharpe / sharpe_annual`` (0 = no haircut, 1 = all of it).
    t_stat, pvalue, adjusted_pvalue : float
        Single-test t-ratio ``SR·sqrt(T)`` (per-period SR), its two-sided p-value and the
        adjusted one.
    """

    sharpe_annual: float
    haircut_sharpe: float
    haircut: float
    t_stat: float
    pvalue: float
    adjusted_pvalue: float
    method: AdjustMethod
    n_trials: int
    n_obs: int
    periods_per_year: float


def sharpe_haircut(
    sharpe_annual: float,
    n_obs: int,
    n_trials: int,
    *,
    periods_per_year: float,
    method: AdjustMethod = "bonferroni",
    other_sharpes: ArrayLike | None = None,
) -> HaircutResult:
    r"""Haircut Sharpe ratio: the Sharpe ratio that survives a multiple-testing adjustment.

    Steps (Harvey & Liu 2015, "Backtesting"):

    1. per-period ``SR = sharpe_annual / sqrt(periods_per_year)``, t-ratio ``t = SR·sqrt(T)``;
    2. two-sided single-test p-value ``p = 2·(1 − F_{T−1}(|t|))`` (Student t, ``T − 1`` df,
       as in the authors' code);
    3. adjusted p-value ``p^M`` by Bonferroni, Holm or BHY over the ``n_trials`` tests;
    4. invert: ``t^M = F_{T−1}^{-1}(1 − p^M/2)``, haircut Sharpe
       ``sign(SR)·t^M / sqrt(T) · sqrt(periods_per_year)``.

    Bonferroni needs only ``n_trials``. Holm and BHY depend on the other tests' p-values:
    Harvey & Liu simulate them from the Harvey–Liu–Zhu (2016) model of published factors; this
    project has its own trial ledger, so pass the other trials' annualized Sharpe ratios in
    ``other_sharpes`` (same ``n_obs`` and frequency) and they are converted the same way.

    Parameters
    ----------
    sharpe_annual : float
        Reported annualized Sharpe ratio of the strategy tested.
    n_obs : int
        Number of return observations ``T`` behind it (>= 2).
    n_trials : int
        Number of tests ``M`` (the strategy included), from the trial ledger.
    periods_per_year : float
        Observations per year (252 daily, 12 monthly).
    method : {"bonferroni", "holm", "bhy"}, default "bonferroni"
    other_sharpes : array_like, optional
        The other ``n_trials − 1`` trials' annualized Sharpe ratios; required for Holm and BHY.

    Returns
    -------
    HaircutResult

    References
    ----------
    Harvey & Liu (2015), "Backtesting", JPM 42(1): steps 1–4 above (t-ratio of the Sharpe
    ratio, adjusted p-value, implied haircut Sharpe ratio), as in the authors' published haircut
    code; Harvey, Liu & Zhu (2016), RFS 29(1) (Bonferroni, Holm and BHY adjustments). No
    autocorrelation correction of the Sharpe ratio is applied (Harvey & Liu's optional Lo (2002)
    adjustment): pass a Sharpe ratio that is already adjusted if returns are autocorrelated.

    Examples
    --------
    >>> r = sharpe_haircut(1.0, 120, 10, periods_per_year=12)
    >>> round(r.adjusted_pvalue, 4), round(r.haircut_sharpe, 3)
    (0.0199, 0.747)
    """
    _check_positive_number(periods_per_year, "periods_per_year")
    t_obs = _check_int(n_obs, "n_obs", minimum=2)
    m = _check_int(n_trials, "n_trials", minimum=1)
    if not math.isfinite(sharpe_annual):
        raise ValueError(f"sharpe_annual must be finite, got {sharpe_annual!r}")
    t_stat, p = _sharpe_pvalues(
        np.array([sharpe_annual], dtype=np.float64), t_obs, periods_per_year
    )
    p_adj = _adjusted_target(float(p[0]), m, t_obs, periods_per_year, method, other_sharpes)
    t_adj = float(sps.t.isf(p_adj / 2.0, df=t_obs - 1)) if p_adj < 1.0 else 0.0
    hsr = math.copysign(t_adj / math.sqrt(t_obs) * math.sqrt(periods_per_year), sharpe_annual)
    return HaircutResult(
        sharpe_annual=float(sharpe_annual),
        haircut_sharpe=hsr,
        haircut=1.0 - hsr / sharpe_annual if sharpe_annual != 0.0 else math.nan,
        t_stat=float(t_stat[0]),
        pvalue=float(p[0]),
        adjusted_pvalue=p_adj,
        method=method,
        n_trials=m,
        n_obs=t_obs,
        periods_per_year=float(periods_per_year),
    )


def _sharpe_pvalues(
    sharpe_annual: NDArray[np.float64], n_obs: int, periods_per_year: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t_stat = sharpe_annual / math.sqrt(periods_per_year) * math.sqrt(n_obs)
    return t_stat, 2.0 * sps.t.sf(np.abs(t_stat), df=n_obs - 1)


def _adjusted_target(
    p: float,
    m: int,
    n_obs: int,
    periods_per_year: float,
    method: AdjustMethod,
    other_sharpes: ArrayLike | None,
) -> float:
    if method not in ("bonferroni", "holm", "bhy"):
        raise ValueError(f"method must be 'bonferroni', 'holm' or 'bhy', got {method!r}")
    if other_sharpes is None:
        if method != "bonferroni" and m > 1:
            raise ValueError(
                f"method={method!r} depends on the other trials' p-values: pass other_sharpes "
                f"(the other {m - 1} trials' annualized Sharpe ratios, from the trial ledger)"
            )
        return min(1.0, m * p)
    others = np.asarray(other_sharpes, dtype=np.float64).reshape(-1)
    if others.size != m - 1:
        raise ValueError(
            f"other_sharpes has {others.size} values; n_trials={m} needs n_trials - 1 = {m - 1}"
        )
    if not np.all(np.isfinite(others)):
        raise ValueError("other_sharpes contains non-finite values")
    _, p_others = _sharpe_pvalues(others, n_obs, periods_per_year)
    adj = _adjust_sorted(np.concatenate([[p], p_others]), method)
    return float(adj[0])


def _check_int(value: int, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive_number(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
