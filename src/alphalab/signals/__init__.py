"""Signals: built-in price dimensions, composite scores, file signals and availability.

- :mod:`alphalab.signals.availability`: ``available_at`` — the first session a value may be
  used (the one place the timing convention lives).
- :mod:`alphalab.signals.price`: price dimensions (``mom_12_1``, ``rev_1m``, ``vol_63d``,
  ``high_52w``), cross-sectional z-scores and the weighted composite.
- :mod:`alphalab.signals.file`: CNOI-style files normalised to the contract signal table.

The aligned panel these feed is :mod:`alphalab.panel`.
"""

from __future__ import annotations

from alphalab.signals.availability import AvailabilityError, available_at, available_at_from_params
from alphalab.signals.file import (
    FileSignal,
    FileSignalError,
    file_signal_from_params,
    normalize_file_signal,
)
from alphalab.signals.price import (
    PRICE_DIMENSIONS,
    CompositeSignal,
    SignalError,
    composite_from_params,
    composite_score,
    compute_composite,
    cross_sectional_zscore,
    get_dimension,
    high_52w,
    mom_12_1,
    rev_1m,
    vol_63d,
)

__all__ = [
    "PRICE_DIMENSIONS",
    "AvailabilityError",
    "CompositeSignal",
    "FileSignal",
    "FileSignalError",
    "SignalError",
    "available_at",
    "available_at_from_params",
    "composite_from_params",
    "composite_score",
    "compute_composite",
    "cross_sectional_zscore",
    "file_signal_from_params",
    "get_dimension",
    "high_52w",
    "mom_12_1",
    "normalize_file_signal",
    "rev_1m",
    "vol_63d",
]
