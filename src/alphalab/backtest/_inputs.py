"""Input checks and the one conversion from pandas to aligned numpy matrices (private)."""

from __future__ import annotations

import numpy as np
import pandas as pd


class BacktestInputError(ValueError):
    """An input to the engine broke the wide-panel contract (see :mod:`alphalab.panel`)."""


def _preview(items: object, limit: int = 5) -> str:
    seq = list(items)  # type: ignore[call-overload]
    shown = ", ".join(repr(x) for x in seq[:limit])
    return shown + (f" … ({len(seq)} in all)" if len(seq) > limit else "")


def check_frame(frame: object, name: str) -> pd.DataFrame:
    """Require a dates × tickers DataFrame with a unique, increasing index and unique columns."""
    if not isinstance(frame, pd.DataFrame):
        raise BacktestInputError(
            f"{name}: expected a pandas DataFrame (dates × tickers), got {type(frame).__name__}"
        )
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()]
        raise BacktestInputError(f"{name}: duplicate dates in the index: {_preview(dup)}")
    if not frame.index.is_monotonic_increasing:
        raise BacktestInputError(f"{name}: the date index must be sorted increasing")
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()]
        raise BacktestInputError(f"{name}: duplicate tickers in the columns: {_preview(dup)}")
    return frame


def to_matrix(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Float64 values without a copy where pandas allows; non-numeric columns raise.

    The layout is left as pandas stores it (a float frame is one tickers × dates block, so
    this is usually Fortran order): the kernels index ``[date, ticker]`` and read either
    layout, and a transposing copy would cost more than the kernels themselves.
    """
    try:
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        raise BacktestInputError(
            f"{name}: values must be numeric; non-numeric columns: {_preview(bad)}"
        ) from exc
    return values


def align_to(frame: pd.DataFrame, base: pd.DataFrame, name: str, base_name: str) -> np.ndarray:
    """Put ``frame`` on ``base``'s dates and tickers (missing cells NaN) as a matrix.

    Dates or tickers of ``frame`` that ``base`` lacks raise: a value there could never be
    traded, and nothing is dropped silently.
    """
    check_frame(frame, name)
    extra_dates = frame.index.difference(base.index)
    if len(extra_dates):
        raise BacktestInputError(
            f"{name}: {len(extra_dates)} date(s) not in the {base_name} index (the session "
            f"calendar): {_preview(extra_dates)}"
        )
    extra_cols = frame.columns.difference(base.columns)
    if len(extra_cols):
        raise BacktestInputError(f"{name}: ticker(s) without {base_name}: {_preview(extra_cols)}")
    if frame.index.equals(base.index) and frame.columns.equals(base.columns):
        return to_matrix(frame, name)
    return to_matrix(frame.reindex(index=base.index, columns=base.columns), name)


def check_no_inf(values: np.ndarray, name: str, labels: pd.DataFrame) -> None:
    """Infinite values are errors (NaN means missing)."""
    bad = np.isinf(values)
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise BacktestInputError(
            f"{name}: infinite value at date {labels.index[t]!s}, ticker {labels.columns[i]!r}"
        )


def check_returns(values: np.ndarray, frame: pd.DataFrame, name: str = "returns") -> None:
    """Simple returns are finite or NaN and never below -1 (a total loss)."""
    check_no_inf(values, name, frame)
    with np.errstate(invalid="ignore"):
        bad = values < -1.0
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise BacktestInputError(
            f"{name}: return {values[t, i]!r} below -1 at date {frame.index[t]!s}, ticker "
            f"{frame.columns[i]!r} (simple returns in decimals cannot lose more than 100%)"
        )


def check_prices(values: np.ndarray, frame: pd.DataFrame, name: str = "prices") -> None:
    """Prices are positive where present."""
    check_no_inf(values, name, frame)
    with np.errstate(invalid="ignore"):
        bad = values <= 0.0
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise BacktestInputError(
            f"{name}: non-positive price {values[t, i]!r} at date {frame.index[t]!s}, ticker "
            f"{frame.columns[i]!r}"
        )


def check_int(value: object, name: str, *, low: int, high: int | None = None) -> int:
    """An integer option within bounds."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise BacktestInputError(f"{name}: expected an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        rule = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise BacktestInputError(f"{name}: {value!r} must be {rule}")
    return int(value)


def check_choice(value: object, name: str, choices: tuple[object, ...]) -> None:
    """A string (or other literal) option from a fixed set."""
    if value not in choices:
        raise BacktestInputError(f"{name}: {value!r} is not one of {list(choices)}")
