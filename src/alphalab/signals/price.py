"""Built-in price signals and the composite score (the default study's signal).

Each *dimension* is a classic price anomaly computed from a wide close matrix (dates ×
tickers, one row per session, see :mod:`alphalab.panel`) using only rows ``≤ t`` for the
value on row ``t``. Dimensions are standardized across names on each date
(:func:`cross_sectional_zscore`) and combined with weights and signs into one composite score
(:func:`composite_score`) — the same shape as CNOI's dimensions and index.

Every dimension is NaN on a row where the stock has no close (so a delisted stock gets no new
value) and before its minimum history is available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from alphalab.calendar import period_ends
from alphalab.config import DimensionSpec, SignalParams

DimensionFn = Callable[[pd.DataFrame], pd.DataFrame]
SignalFrequency = Literal["daily", "weekly", "monthly", "quarterly"]


class SignalError(ValueError):
    """A signal input or specification broke a rule (unknown dimension, bad matrix, weights)."""


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _values(close: pd.DataFrame) -> np.ndarray:
    if not isinstance(close, pd.DataFrame) or not isinstance(close.index, pd.DatetimeIndex):
        raise SignalError("close: expected a DataFrame with a DatetimeIndex (dates × tickers)")
    if not close.index.is_monotonic_increasing or close.index.has_duplicates:
        raise SignalError("close: the date index must be strictly increasing")
    vals = close.to_numpy(dtype=np.float64, na_value=np.nan)
    if (vals <= 0).any():
        raise SignalError("close: prices must be > 0 (found a non-positive value)")
    return vals


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    """Rows shifted down by ``k`` (row t holds row t-k), NaN on the first ``k`` rows."""
    out = np.full_like(x, np.nan)
    if k < x.shape[0]:
        out[k:] = x[: x.shape[0] - k]
    return out


def _wrap(values: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(values, index=like.index, columns=like.columns)


def _check_window(name: str, value: int, minimum: int = 1) -> None:
    if value < minimum:
        raise SignalError(f"{name}: {value} must be ≥ {minimum}")


# --------------------------------------------------------------------------------------------
# dimensions
# --------------------------------------------------------------------------------------------
def mom_12_1(close: pd.DataFrame, *, lookback: int = 252, skip: int = 21) -> pd.DataFrame:
    """12-1 momentum: the return from ``t − lookback`` to ``t − skip``.

    ``mom[t] = close[t − skip] / close[t − lookback] − 1``, NaN unless both closes and
    ``close[t]`` exist (so the first value is on row ``lookback``).

    References
    ----------
    Jegadeesh, N. and Titman, S. (1993), "Returns to buying winners and selling losers",
    Journal of Finance 48, 65–91 (formation-period return, skipping the most recent month as in
    Fama, E. and French, K. (1996), Journal of Finance 51, 55–84, Table VI); Carhart, M. (1997),
    Journal of Finance 52, 57–82 (PR1YR: months t−12 … t−2).
    """
    _check_window("skip", skip, 0)
    _check_window("lookback", lookback, skip + 1)
    c = _values(close)
    out = _lag(c, skip) / _lag(c, lookback) - 1.0
    return _wrap(np.where(np.isnan(c), np.nan, out), close)


def rev_1m(close: pd.DataFrame, *, window: int = 21) -> pd.DataFrame:
    """Short-term reversal input: the return over the last ``window`` sessions.

    ``rev[t] = close[t] / close[t − window] − 1`` (first value on row ``window``). The
    anomaly is that high values predict *low* returns: give it ``sign=-1`` in a composite.

    References
    ----------
    Jegadeesh, N. (1990), "Evidence of predictable behavior of security returns", Journal of
    Finance 45, 881–898; Lehmann, B. (1990), "Fads, martingales, and market efficiency",
    Quarterly Journal of Economics 105, 1–28.
    """
    _check_window("window", window)
    c = _values(close)
    return _wrap(c / _lag(c, window) - 1.0, close)


def vol_63d(
    close: pd.DataFrame, *, window: int = 63, min_periods: int | None = None
) -> pd.DataFrame:
    """Total volatility: sample sd (ddof = 1) of daily simple returns over ``window`` sessions.

    ``r[t] = close[t] / close[t − 1] − 1``; ``vol[t] = sd(r[t − window + 1], …, r[t])`` over
    the non-missing returns, NaN when fewer than ``min_periods`` (default ``window``) exist or
    ``close[t]`` is missing. Not annualized. High values predict low risk-adjusted returns:
    give it ``sign=-1``.

    References
    ----------
    Ang, A., Hodrick, R., Xing, Y. and Zhang, X. (2006), "The cross-section of volatility and
    expected returns", Journal of Finance 61, 259–299 (total volatility, Table VI); Baker, M.,
    Bradley, B. and Wurgler, J. (2011), "Benchmarks as limits to arbitrage", Financial
    Analysts Journal 67, 40–54.
    """
    _check_window("window", window, 2)
    mp = window if min_periods is None else min_periods
    _check_window("min_periods", mp, 2)
    c = _values(close)
    ret = c / _lag(c, 1) - 1.0
    out = pd.DataFrame(ret).rolling(window, min_periods=mp).std(ddof=1).to_numpy()
    return _wrap(np.where(np.isnan(c), np.nan, out), close)


def high_52w(
    close: pd.DataFrame, *, window: int = 252, min_periods: int | None = None
) -> pd.DataFrame:
    """52-week-high ratio: ``close[t] / max(close[t − window + 1], …, close[t])``.

    The maximum skips missing closes and needs ``min_periods`` (default ``window``) of them;
    NaN when ``close[t]`` is missing. Values lie in (0, 1].

    References
    ----------
    George, T. and Hwang, C.-Y. (2004), "The 52-week high and momentum investing", Journal of
    Finance 59, 2145–2176, eq. (3): P(i,t−1) / high(i,t−1); here with adjusted daily closes
    instead of intraday highs, and the current row included (it is known at the close of t).
    """
    _check_window("window", window)
    mp = window if min_periods is None else min_periods
    _check_window("min_periods", mp)
    c = _values(close)
    peak = pd.DataFrame(c).rolling(window, min_periods=mp).max().to_numpy()
    return _wrap(c / peak, close)


PRICE_DIMENSIONS: dict[str, DimensionFn] = {
    "mom_12_1": mom_12_1,
    "rev_1m": rev_1m,
    "vol_63d": vol_63d,
    "high_52w": high_52w,
}
"""Built-in dimensions by name (the keys ``signal.dimensions`` may use for ``kind: composite``)."""


def get_dimension(name: str, registry: Mapping[str, DimensionFn] | None = None) -> DimensionFn:
    """Look a dimension function up by name (in ``registry``, default :data:`PRICE_DIMENSIONS`)."""
    reg = PRICE_DIMENSIONS if registry is None else registry
    try:
        return reg[name]
    except KeyError:
        known = ", ".join(sorted(reg))
        raise SignalError(
            f"signal.dimensions: unknown dimension {name!r} (known: {known})"
        ) from None


# --------------------------------------------------------------------------------------------
# standardization and the composite
# --------------------------------------------------------------------------------------------
def _row_sum(x: np.ndarray) -> np.ndarray:
    """Sequential row sums (cumsum, not pairwise): adding a zero column leaves them bit-identical."""
    if x.shape[1] == 0:
        return np.zeros(x.shape[0])
    return np.cumsum(x, axis=1)[:, -1]


def cross_sectional_zscore(
    matrix: pd.DataFrame, *, min_names: int = 3, ddof: int = 1
) -> pd.DataFrame:
    """Standardize each row across names: ``z = (x − mean) / sd`` over the non-missing names.

    Rows with fewer than ``min_names`` non-missing values, or with zero dispersion, are all
    NaN. With the default ``ddof=1`` every standardized row has mean 0 and sample sd 1.
    Sums run left to right over names, so a name that is missing on a date (or absent from
    the universe) does not change other names' z-scores by even one bit.

    References
    ----------
    Grinold, R. and Kahn, R. (2000), *Active Portfolio Management*, 2nd ed., ch. 14
    (standardizing raw signals to scores); Asness, C., Frazzini, A. and Pedersen, L. (2019),
    "Quality minus junk", Review of Accounting Studies 24, 34–112 (composites of z-scores).
    """
    if min_names < 2:
        raise SignalError(f"min_names: {min_names} must be ≥ 2 to define a dispersion")
    x = matrix.to_numpy(dtype=np.float64, na_value=np.nan)
    valid = np.isfinite(x)
    n = valid.sum(axis=1)
    enough = n >= max(min_names, ddof + 1)
    safe_n = np.where(enough, n, 1)
    mean = _row_sum(np.where(valid, x, 0.0)) / safe_n
    dev = np.where(valid, x - mean[:, None], 0.0)
    sd = np.sqrt(_row_sum(dev * dev) / np.where(enough, n - ddof, 1))
    ok = enough & (sd > 0)
    z = np.where(valid & ok[:, None], dev / np.where(ok, sd, 1.0)[:, None], np.nan)
    return pd.DataFrame(z, index=matrix.index, columns=matrix.columns)


def composite_score(
    dimensions: Mapping[str, pd.DataFrame],
    weights: Mapping[str, float],
    signs: Mapping[str, int] | None = None,
    *,
    min_weight_share: float = 0.0,
) -> pd.DataFrame:
    """Weighted composite: ``Σ_k w_k·s_k·z_k / Σ_k w_k`` over the dimensions available per cell.

    Missing dimensions are handled cell by cell: the weights of the dimensions that are
    present are renormalized (so a stock with momentum but no 52-week-high value gets the
    weighted mean of what it has). A cell is NaN when no positive-weight dimension is present
    or when the present weights are less than ``min_weight_share`` of the total weight.

    Parameters
    ----------
    dimensions : mapping of name → DataFrame
        Standardized dimension matrices on identical labels (dates × tickers).
    weights : mapping of name → float
        Non-negative weights, one per dimension (extra keys are an error).
    signs : mapping of name → {1, -1}, optional
        Direction per dimension (default all +1).
    min_weight_share : float
        In [0, 1]; coverage rule described above.

    References
    ----------
    Asness, C., Frazzini, A. and Pedersen, L. (2019), "Quality minus junk", Review of
    Accounting Studies 24, 34–112, Section 3 (a composite is the average of component
    z-scores).
    """
    names = list(dimensions)
    _check_spec(names, weights, signs, min_weight_share)
    first = dimensions[names[0]]
    num = np.zeros(first.shape)
    den = np.zeros(first.shape)
    for name in names:
        frame = dimensions[name]
        if not (frame.index.equals(first.index) and frame.columns.equals(first.columns)):
            raise SignalError(f"dimensions[{name!r}]: labels differ from dimensions[{names[0]!r}]")
        z = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        w = float(weights[name])
        s = 1 if signs is None else int(signs[name])
        have = np.isfinite(z)
        num += np.where(have, w * s * z, 0.0)
        den += np.where(have, w, 0.0)
    total = float(sum(weights[n] for n in names))
    ok = (den > 0) & (den >= min_weight_share * total)
    out = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
    return pd.DataFrame(out, index=first.index, columns=first.columns)


def _check_spec(
    names: list[str],
    weights: Mapping[str, float],
    signs: Mapping[str, int] | None,
    min_weight_share: float,
) -> None:
    if not names:
        raise SignalError("dimensions: at least one dimension is needed")
    if set(weights) != set(names):
        raise SignalError(f"weights: keys {sorted(weights)} must equal dimensions {sorted(names)}")
    if signs is not None and set(signs) != set(names):
        raise SignalError(f"signs: keys {sorted(signs)} must equal dimensions {sorted(names)}")
    bad_w = {n: w for n, w in weights.items() if not np.isfinite(w) or w < 0}
    if bad_w:
        raise SignalError(f"weights: {bad_w} must be finite and ≥ 0")
    if sum(weights.values()) <= 0:
        raise SignalError("weights: must sum to a positive number")
    if signs is not None and any(s not in (1, -1) for s in signs.values()):
        raise SignalError(f"signs: {dict(signs)} must each be 1 or -1")
    if not 0.0 <= min_weight_share <= 1.0:
        raise SignalError(f"min_weight_share: {min_weight_share} must lie in [0, 1]")


@dataclass(frozen=True)
class CompositeSignal:
    """A composite score with its standardized dimensions, on the formation dates.

    ``score`` and every matrix in ``dimensions`` share labels: rows are the formation dates
    (the ``frequency`` period ends of the close matrix), columns the tickers. A row is a full
    cross-section: a NaN there means "no value at this formation" (see
    :func:`alphalab.panel.build_panel`). ``raw`` holds the unstandardized dimension values.
    """

    score: pd.DataFrame
    dimensions: dict[str, pd.DataFrame]
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    signs: dict[str, int] = field(default_factory=dict)
    frequency: str = "monthly"


def _as_spec(spec: DimensionSpec | tuple[float, int] | float) -> DimensionSpec:
    if isinstance(spec, DimensionSpec):
        return spec
    if isinstance(spec, tuple):
        return DimensionSpec.model_validate({"weight": spec[0], "sign": spec[1]})
    return DimensionSpec(weight=float(spec), sign=1)


def compute_composite(
    close: pd.DataFrame,
    *,
    dimensions: Mapping[str, DimensionSpec | tuple[float, int] | float],
    frequency: SignalFrequency = "monthly",
    registry: Mapping[str, DimensionFn] | None = None,
    min_names: int = 3,
    min_weight_share: float = 0.0,
    calendar: str | None = "XNYS",
) -> CompositeSignal:
    """Compute the named dimensions, standardize them per date and combine them.

    Each dimension is computed on every session of ``close`` (so rolling windows see the full
    history), then kept only on the formation dates — the ``calendar``'s last session of each
    ``frequency`` period, among the dates of ``close.index``
    (:func:`alphalab.calendar.period_ends`; an incomplete trailing period has no formation, so
    whether a date forms a score never depends on later data) — standardized across names on
    each formation date and combined with :func:`composite_score`.

    Parameters
    ----------
    close : DataFrame
        Adjusted closes, sessions × tickers (the panel's valuation close).
    dimensions : mapping of name → DimensionSpec or (weight, sign) or weight
        Which dimensions, with weights and signs.
    frequency : {"daily", "weekly", "monthly", "quarterly"}
    registry : mapping of name → function, optional
        Where names are looked up (default :data:`PRICE_DIMENSIONS`).
    min_names, min_weight_share
        See :func:`cross_sectional_zscore` and :func:`composite_score`.
    calendar : str or None
        Exchange calendar defining period ends (``close.index`` must hold its sessions);
        None uses the last date of each period present in ``close.index``.

    References
    ----------
    See the dimension functions and :func:`composite_score`.
    """
    specs = {name: _as_spec(spec) for name, spec in dimensions.items()}
    formation = close.index.isin(period_ends(close.index, frequency, calendar=calendar))
    raw: dict[str, pd.DataFrame] = {}
    std: dict[str, pd.DataFrame] = {}
    for name in specs:
        fn = get_dimension(name, registry)
        values = fn(close)
        if not (values.index.equals(close.index) and values.columns.equals(close.columns)):
            raise SignalError(f"dimension {name!r}: returned labels differ from the close matrix")
        raw[name] = values.loc[formation]
        std[name] = cross_sectional_zscore(raw[name], min_names=min_names)
    weights = {n: s.weight for n, s in specs.items()}
    signs = {n: int(s.sign) for n, s in specs.items()}
    score = composite_score(std, weights, signs, min_weight_share=min_weight_share)
    return CompositeSignal(score, std, raw, weights, signs, frequency)


def composite_from_params(
    close: pd.DataFrame,
    params: SignalParams,
    *,
    registry: Mapping[str, DimensionFn] | None = None,
) -> CompositeSignal:
    """:func:`compute_composite` with the dimensions and frequency of ``signal`` params."""
    if params.kind != "composite":
        raise SignalError(f"signal.kind: {params.kind!r}; composite_from_params needs 'composite'")
    return compute_composite(
        close, dimensions=params.dimensions, frequency=params.frequency, registry=registry
    )
