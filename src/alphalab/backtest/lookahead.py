"""A look-ahead checker: garble the future, demand an unchanged past.

:func:`check_no_lookahead` runs a function once on the original inputs, then, for each
cutoff date and each perturbation, on inputs whose rows dated after the cutoff are garbled,
and requires every output row dated at or before the cutoff to be *exactly* unchanged
(bit for bit, NaN equal to NaN). A function that reads anything dated after ``t`` to produce
a value dated ``t`` fails, whatever the data. This is the "perturbation test" form of the
point-in-time requirement (López de Prado 2018, ch. 7; Bailey et al. 2014 on backtest
leakage).

Perturbations (rows dated after the cutoff only):

``scale``
    numeric values multiplied by random factors exp(N(0, 0.5²)) cell by cell;
``shuffle``
    each row's values permuted across columns, and the rows permuted among themselves
    (boolean Series: permuted);
``nan``
    about 30% of cells, and a few whole rows, set to NaN (boolean Series: flipped);
``delete``
    about half of the rows deleted from every input. The first session after the cutoff is
    kept in the calendar (its values are NaN'ed): whether a session is the last of its week,
    month or quarter is read from the next session's date, which an exchange calendar
    publishes in advance and which is not data;
``new_tickers``
    three new columns added to every DataFrame, NaN up to the cutoff and filled with values
    drawn from the frame afterwards. New output columns must be NaN or 0 up to the cutoff.

References
----------
López de Prado, M. (2018), *Advances in Financial Machine Learning*, Wiley, ch. 7 (leakage).
Bailey, D. H., Borwein, J. M., López de Prado, M. and Zhu, Q. J. (2014), "Pseudo-mathematics
and financial charlatanism", Notices of the AMS 61(5), 458–471.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

Perturbation = Literal["scale", "shuffle", "nan", "delete", "new_tickers"]
PERTURBATIONS: tuple[Perturbation, ...] = ("scale", "shuffle", "nan", "delete", "new_tickers")
NEW_TICKER_PREFIX = "ZZ_NEW_"

Data: TypeAlias = pd.DataFrame | pd.Series


class LookAheadError(AssertionError):
    """An output dated at or before a cutoff changed when only later inputs were garbled."""


def check_no_lookahead(
    fn: Callable[..., Any],
    inputs: Mapping[str, Data],
    cutoffs: Sequence[Any] | int,
    *,
    seed: int | np.random.Generator | None,
    perturbations: Sequence[Perturbation] = PERTURBATIONS,
) -> int:
    """Assert that ``fn(**inputs)`` never uses an input dated after an output's date.

    Parameters
    ----------
    fn : callable
        Called as ``fn(**inputs)``; returns a DataFrame or Series indexed by date (or by a
        MultiIndex whose first level is the date), or a mapping of names to such objects.
    inputs : mapping of str to DataFrame or Series
        Date-indexed inputs (DataFrames are dates × tickers; Series are over dates, e.g. a
        rebalance mask). Every input is garbled after each cutoff.
    cutoffs : sequence of dates, or int
        The cutoff dates, or how many to draw at random from the inputs' dates (excluding
        the last two, so that something follows each cutoff).
    seed : int or numpy.random.Generator or None
        Randomness of the cutoffs and the perturbations.
    perturbations : sequence of str
        Which perturbations to apply (module docstring); each is applied separately.

    Returns
    -------
    int
        Number of perturbed runs checked.

    Raises
    ------
    LookAheadError
        Naming the output, the first differing date and column, the cutoff and the
        perturbation.
    ValueError
        If an input is not date-indexed or a perturbation name is unknown.

    References
    ----------
    López de Prado (2018), ch. 7; Bailey et al. (2014).

    Examples
    --------
    >>> idx = pd.bdate_range("2024-01-01", periods=30)
    >>> x = pd.DataFrame(np.arange(60.0).reshape(30, 2), index=idx, columns=["A", "B"])
    >>> check_no_lookahead(lambda x: x.cumsum(), {"x": x}, 3, seed=0)
    15
    """
    rng = np.random.default_rng(seed)
    for p in perturbations:
        if p not in PERTURBATIONS:
            raise ValueError(f"perturbations: {p!r} is not one of {list(PERTURBATIONS)}")
    dates = _all_dates(inputs)
    cuts = _cutoffs(cutoffs, dates, rng)
    base = _as_outputs(fn(**inputs))
    n_runs = 0
    for cutoff in cuts:
        for p in perturbations:
            garbled = _perturb(inputs, cutoff, p, dates, rng)
            _compare(base, _as_outputs(fn(**garbled)), cutoff, p)
            n_runs += 1
    return n_runs


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------


def _all_dates(inputs: Mapping[str, Data]) -> pd.DatetimeIndex:
    out: pd.Index | None = None
    for name, obj in inputs.items():
        if not isinstance(obj, pd.DataFrame | pd.Series):
            raise ValueError(
                f"inputs[{name!r}]: expected a DataFrame or Series, got {type(obj).__name__}"
            )
        if not isinstance(obj.index, pd.DatetimeIndex):
            raise ValueError(f"inputs[{name!r}]: the index must be a DatetimeIndex")
        out = obj.index if out is None else out.union(obj.index)
    if out is None or len(out) < 3:
        raise ValueError("inputs: need at least one date-indexed input with 3 or more dates")
    return pd.DatetimeIndex(out).sort_values()


def _cutoffs(
    cutoffs: Sequence[Any] | int, dates: pd.DatetimeIndex, rng: np.random.Generator
) -> list[pd.Timestamp]:
    if isinstance(cutoffs, int | np.integer):
        pos = rng.choice(len(dates) - 2, size=min(int(cutoffs), len(dates) - 2), replace=False)
        return [dates[i] for i in np.sort(pos)]
    return [pd.Timestamp(c) for c in cutoffs]


def _perturb(
    inputs: Mapping[str, Data],
    cutoff: pd.Timestamp,
    kind: Perturbation,
    dates: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> dict[str, Data]:
    if kind == "delete":
        later = dates[dates > cutoff]
        drop = later[1:][rng.random(len(later) - 1) < 0.5] if len(later) > 1 else later[:0]
        keep_first = later[:1]
        out: dict[str, Data] = {}
        for name, obj in inputs.items():
            obj = obj.drop(index=obj.index.intersection(drop))
            out[name] = _nan_rows(obj, keep_first)
        return out
    return {name: _perturb_one(obj, cutoff, kind, rng) for name, obj in inputs.items()}


def _nan_rows(obj: Data, rows: pd.Index) -> Data:
    hit = obj.index.isin(rows)
    if not hit.any() or _is_bool(obj):
        return obj
    obj = obj.copy()
    obj.loc[hit] = np.nan
    return obj


def _is_bool(obj: Data) -> bool:
    if isinstance(obj, pd.Series):
        return pd.api.types.is_bool_dtype(obj.dtype)
    return all(pd.api.types.is_bool_dtype(t) for t in obj.dtypes)


def _perturb_one(
    obj: Data, cutoff: pd.Timestamp, kind: Perturbation, rng: np.random.Generator
) -> Data:
    after = obj.index > cutoff
    n_after = int(after.sum())
    if n_after == 0:
        return obj
    if isinstance(obj, pd.Series):
        return _perturb_series(obj, after, kind, rng)
    if kind == "new_tickers":
        return _add_tickers(obj, after, rng)
    values = obj.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    block = values[after]
    if kind == "scale":
        block = block * np.exp(rng.normal(0.0, 0.5, size=block.shape))
    elif kind == "shuffle":
        block = rng.permuted(block, axis=1)[rng.permutation(n_after)]
    elif kind == "nan":
        block = block.copy()
        block[rng.random(block.shape) < 0.3] = np.nan
        block[rng.random(n_after) < 0.1] = np.nan
    values[after] = block
    if _is_bool(obj):
        return obj
    return pd.DataFrame(values, index=obj.index, columns=obj.columns)


def _perturb_series(
    obj: pd.Series, after: np.ndarray, kind: Perturbation, rng: np.random.Generator
) -> pd.Series:
    values = obj.to_numpy(copy=True)
    block = values[after]
    if kind == "new_tickers":
        return obj
    if _is_bool(obj):
        if kind == "shuffle":
            block = rng.permutation(block)
        elif kind in ("nan", "scale"):
            flip = rng.random(block.shape) < 0.3
            block = np.where(flip, ~block, block)
    else:
        block = block.astype(np.float64)
        if kind == "scale":
            block = block * np.exp(rng.normal(0.0, 0.5, size=block.shape))
        elif kind == "shuffle":
            block = rng.permutation(block)
        elif kind == "nan":
            block[rng.random(block.shape) < 0.3] = np.nan
        values = values.astype(np.float64)
    values[after] = block
    return pd.Series(values, index=obj.index, name=obj.name)


def _add_tickers(obj: pd.DataFrame, after: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    values = obj.to_numpy(dtype=np.float64, na_value=np.nan)
    pool = values[np.isfinite(values)]
    if pool.size == 0:
        pool = np.array([0.0])
    new = np.full((len(obj.index), 3), np.nan)
    new[after] = rng.choice(pool, size=(int(after.sum()), 3))
    extra = pd.DataFrame(
        new, index=obj.index, columns=[f"{NEW_TICKER_PREFIX}{k}" for k in range(3)]
    )
    return pd.concat([obj, extra], axis=1)


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------


def _as_outputs(result: Any) -> dict[str, Data]:
    if isinstance(result, pd.DataFrame | pd.Series):
        return {"output": result}
    if isinstance(result, Mapping):
        out = {}
        for k, v in result.items():
            if not isinstance(v, pd.DataFrame | pd.Series):
                raise ValueError(
                    f"fn output {k!r}: expected a DataFrame or Series, got {type(v).__name__}"
                )
            out[str(k)] = v
        return out
    raise ValueError(
        f"fn must return a DataFrame, Series or mapping of them, got {type(result).__name__}"
    )


def _upto(obj: Data, cutoff: pd.Timestamp) -> Data:
    idx = obj.index
    dates = idx.get_level_values(0) if isinstance(idx, pd.MultiIndex) else idx
    return obj[np.asarray(dates <= cutoff)]


def _compare(base: dict[str, Data], new: dict[str, Data], cutoff: pd.Timestamp, kind: str) -> None:
    where = f"(cutoff {cutoff.date()}, perturbation {kind!r})"
    for name, b in base.items():
        if name not in new:
            raise LookAheadError(f"output {name!r} disappeared {where}")
        old, cur = _upto(b, cutoff), _upto(new[name], cutoff)
        if not old.index.equals(cur.index):
            missing = old.index.symmetric_difference(cur.index)
            raise LookAheadError(
                f"output {name!r}: dates up to the cutoff changed {where}: {list(missing[:3])}"
            )
        old_frame = old.to_frame() if isinstance(old, pd.Series) else old
        cur_frame = cur.to_frame() if isinstance(cur, pd.Series) else cur
        _compare_frames(name, old_frame, cur_frame, where)


def _compare_frames(name: str, old: pd.DataFrame, cur: pd.DataFrame, where: str) -> None:
    missing = old.columns.difference(cur.columns)
    if len(missing):
        raise LookAheadError(f"output {name!r}: columns {list(missing[:3])} disappeared {where}")
    for col in cur.columns.difference(old.columns):
        v = cur[col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~(np.isnan(v) | (v == 0))
        if bad.any():
            raise LookAheadError(
                f"output {name!r}: new column {col!r} is {_scalar(v[bad][0])!r} at "
                f"{cur.index[bad][0]} {where}"
            )
    a = old.to_numpy()
    c = cur[old.columns].to_numpy()
    same = (a == c) | (pd.isna(a) & pd.isna(c))
    if not same.all():
        t, j = np.argwhere(~same)[0]
        raise LookAheadError(
            f"output {name!r} differs at {old.index[t]}, column {old.columns[j]!r}: "
            f"{_scalar(a[t, j])!r} became {_scalar(c[t, j])!r} {where}"
        )


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
