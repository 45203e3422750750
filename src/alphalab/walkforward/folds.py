"""Walk-forward folds: training and test windows with a purge/embargo gap, and the holdout.

Windows are half-open ranges of **row positions** on the session index of the panel (see
:mod:`alphalab.panel`). For fold ``k`` with test window ``[test_start, test_stop)``:

- ``mode="rolling"``: the training window is the ``train`` units just before ``test_start``;
  ``mode="anchored"`` (expanding): everything from the study start up to ``test_start``;
- either way the last ``embargo`` sessions before ``test_start`` are **purged** from training
  (López de Prado 2018, ch. 7), so ``train_stop = test_start - embargo``. The embargo must be
  at least the holding horizon (:func:`holding_horizon`): a position formed at the end of
  training is still held, and its returns still being earned, when the gap closes;
- test windows follow each other without gaps or overlap; ``unit="months"`` cuts them at
  calendar month starts, ``unit="sessions"`` every ``test`` sessions. The last window may be
  shorter (it ends at the holdout or the end of the data).

The **holdout** (rows from ``holdout_start``) is not part of any fold's window; it has its own
fold (``kind="holdout"``) whose training window ends ``embargo`` sessions before it.

References
----------
Pardo, R. (2008), *The Evaluation and Optimization of Trading Strategies*, 2nd ed., Wiley,
ch. 11 (walk-forward analysis: rolling in-sample optimization, out-of-sample test windows).
López de Prado, M. (2018), *Advances in Financial Machine Learning*, Wiley, ch. 7,
sections 7.4.1–7.4.2 (purging and embargo of training observations next to a test set).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Mode = Literal["rolling", "anchored"]
Unit = Literal["sessions", "months"]
FoldKind = Literal["walkforward", "holdout"]


class WalkForwardError(ValueError):
    """A walk-forward input or option broke a rule (names the option, value and rule)."""


class EmbargoError(WalkForwardError):
    """The embargo is shorter than the holding horizon of a grid variant."""


@dataclass(frozen=True)
class Fold:
    """One fold: row ranges ``[start, stop)`` on the session index.

    Attributes
    ----------
    fold : int
        0-based fold number (the holdout fold has number ``-1``).
    kind : {"walkforward", "holdout"}
    train_start, train_stop : int
        Training rows (after the purge).
    test_start, test_stop : int
        Test rows.
    """

    fold: int
    kind: FoldKind
    train_start: int
    train_stop: int
    test_start: int
    test_stop: int

    @property
    def n_train(self) -> int:
        return self.train_stop - self.train_start

    @property
    def n_test(self) -> int:
        return self.test_stop - self.test_start

    @property
    def embargo(self) -> int:
        return self.test_start - self.train_stop

    def dates(self, index: pd.DatetimeIndex) -> dict[str, Any]:
        """First/last session of the training and test windows."""
        return {
            "train_first": index[self.train_start],
            "train_last": index[self.train_stop - 1],
            "test_first": index[self.test_start],
            "test_last": index[self.test_stop - 1],
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_ids(index: pd.DatetimeIndex) -> np.ndarray:
    """Integer calendar-month id of each session (months since 1970-01)."""
    days = pd.DatetimeIndex(index).values.astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64)


def _unit_starts(index: pd.DatetimeIndex, first: int, stop: int, unit: Unit) -> np.ndarray:
    """Row positions in ``[first, stop)`` at which a new unit (session or month) begins."""
    if unit == "sessions":
        return np.arange(first, stop)
    ids = month_ids(index[first:stop])
    change = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return first + change


def plan_folds(
    index: pd.DatetimeIndex,
    *,
    train: int,
    test: int,
    embargo: int,
    mode: Mode = "rolling",
    unit: Unit = "months",
    first: int = 0,
    stop: int | None = None,
) -> list[Fold]:
    """Cut ``index[first:stop]`` into walk-forward folds.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        The session dates of the panel.
    train, test : int
        Window lengths in ``unit``\\s (the training length is before the purge).
    embargo : int
        Sessions purged from the end of every training window (>= 0).
    mode : {"rolling", "anchored"}
    unit : {"sessions", "months"}
    first : int
        Row of the study start (first training row).
    stop : int, optional
        One past the last usable row: the holdout start (default: the end of ``index``).

    Returns
    -------
    list of Fold
        In time order; test windows tile ``[first test start, stop)``.

    Raises
    ------
    WalkForwardError
        When no fold fits, or a training window is empty after the purge.

    References
    ----------
    Pardo (2008), ch. 11; López de Prado (2018), ch. 7.4 (see the module docstring).

    Examples
    --------
    >>> idx = pd.bdate_range("2020-01-01", periods=10)
    >>> [(f.train_start, f.train_stop, f.test_start, f.test_stop)
    ...  for f in plan_folds(idx, train=4, test=3, embargo=1, unit="sessions")]
    [(0, 3, 4, 7), (3, 6, 7, 10)]
    """
    _check_lengths(train=train, test=test, embargo=embargo)
    stop = len(index) if stop is None else int(stop)
    if not 0 <= first < stop <= len(index):
        raise WalkForwardError(
            f"rows: first {first} and stop {stop} must satisfy 0 <= first < stop <= {len(index)}"
        )
    starts = _unit_starts(index, first, stop, unit)
    if len(starts) <= train:
        raise WalkForwardError(
            f"walkforward.train: {train} {unit} leave no test window in "
            f"{index[first].date()} … {index[stop - 1].date()} ({len(starts)} {unit})"
        )
    test_starts = starts[train::test]
    bounds = np.r_[test_starts, stop]
    folds = []
    for k, (t0, t1) in enumerate(itertools.pairwise(bounds)):
        train_start = first if mode == "anchored" else int(starts[k * test])
        folds.append(_fold(k, "walkforward", train_start, int(t0), int(t1), embargo, index))
    return folds


def holdout_fold(
    index: pd.DatetimeIndex,
    *,
    holdout_start: int,
    train: int,
    embargo: int,
    mode: Mode = "rolling",
    unit: Unit = "months",
    first: int = 0,
) -> Fold:
    """The holdout's fold: train on the ``train`` units before ``holdout_start`` (purged).

    Parameters mirror :func:`plan_folds`; the test window is ``[holdout_start, len(index))``.
    """
    _check_lengths(train=train, test=1, embargo=embargo)
    if not first < holdout_start < len(index):
        raise WalkForwardError(
            f"walkforward.holdout_start: row {holdout_start} must lie inside the data after the start row {first}"
        )
    starts = _unit_starts(index, first, holdout_start, unit)
    train_start = first if mode == "anchored" else int(starts[max(len(starts) - train, 0)])
    return _fold(-1, "holdout", train_start, holdout_start, len(index), embargo, index)


def _check_lengths(*, train: int, test: int, embargo: int) -> None:
    for name, value, low in (("train", train, 1), ("test", test, 1), ("embargo", embargo, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise WalkForwardError(f"walkforward.{name}: {value!r} must be an integer >= {low}")


def _fold(
    k: int,
    kind: FoldKind,
    train_start: int,
    test_start: int,
    test_stop: int,
    embargo: int,
    index: pd.DatetimeIndex,
) -> Fold:
    train_stop = test_start - embargo
    if train_stop - train_start < 1:
        raise WalkForwardError(
            f"fold {k} (test from {index[test_start].date()}): the training window is empty after "
            f"purging {embargo} sessions; lengthen walkforward.train"
        )
    return Fold(k, kind, train_start, train_stop, test_start, test_stop)


def holding_horizon(rebalance_mask: np.ndarray, *, holding: int, lag: int) -> int:
    """Longest number of sessions a position can be held, from its formation data on.

    ``lag`` sessions to the trade, then up to ``holding`` rebalance periods (Jegadeesh–Titman
    cohorts), each as long as the longest gap between consecutive rebalance rows in
    ``rebalance_mask`` (23 sessions for monthly rebalancing on the NYSE calendar).

    Parameters
    ----------
    rebalance_mask : numpy.ndarray of bool
        Rebalance rows over the whole session index.
    holding, lag : int
        The engine's ``holding`` and ``lag``.

    References
    ----------
    López de Prado (2018), ch. 7.4.2: the embargo should cover the span over which a training
    observation's outcome overlaps the test window; Jegadeesh and Titman (1993), JF 48(1),
    section I.A (overlapping holding periods).
    """
    rows = np.flatnonzero(np.asarray(rebalance_mask, dtype=bool))
    period = int(np.diff(rows).max()) if rows.size > 1 else 1
    return int(lag) + int(holding) * max(period, 1)


def check_embargo(embargo: int, horizons: dict[str, int]) -> None:
    """Raise :class:`EmbargoError` unless ``embargo`` covers every variant's holding horizon."""
    if not horizons:
        return
    label, need = max(horizons.items(), key=lambda kv: kv[1])
    if embargo < need:
        raise EmbargoError(
            f"walkforward.embargo: {embargo} sessions is shorter than the holding horizon of "
            f"variant {label} ({need} sessions = lag + holding × longest rebalance gap); set "
            f"embargo >= {need} or null"
        )
